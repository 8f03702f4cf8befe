"""Postcode-level routing from ONS data (issue 11: districts are not boroughs).

The fixtures are small NSPL- and ONSPD-shaped CSVs of synthetic rows: real-format postcodes and
real ONS codes, invented pairings. In them E11, IG8, RM6, N1 and N4 are split between boroughs,
E11 2ZZ is terminated, SW1A 1AA lies in Westminster (not in the example directory), CM16 4AA in a
two-tier county and GY1 1AA in no local authority.
"""

from __future__ import annotations

import csv
import random
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from plugin_core.host.engine import ThinkFamily
from plugin_core.model import AuthorityMatch, Channel, PromptCode
from plugin_core.rules.children import children_in
from plugin_core.rules.clock import OfficeHours
from plugin_core.rules.postcodes import LookupFormatError, PostcodeLookup, postcode_key
from plugin_core.rules.routing import locate_authority
from plugin_core.settings.postcodes import (
    PostcodeImportError,
    import_postcodes,
    lookup_path,
    open_lookup,
)
from plugin_core.settings.trust_config import (
    AuthorityEntry,
    ConfigError,
    Directory,
    RouteEntry,
    TrustConfig,
    check_trust_config,
    load_trust_config,
)

from .builders import CONFIG_DIR, make_contact, member

HERE = Path(__file__).parent / "postcodes"
NSPL = HERE / "nspl_sample.csv"
ONSPD = HERE / "onspd_sample.csv"
LOOKUP_LINE = 'relationships = "relationships.toml"\n'


def trust_with_lookup(folder: Path, name: str = "data/postcodes.lookup") -> Path:
    """A copy of the example trust whose [trust] names a postcode lookup (not yet built)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in CONFIG_DIR.glob("*.toml"):
        shutil.copy(source, folder / source.name)
    trust = folder / "example-trust.toml"
    text = trust.read_text()
    assert LOOKUP_LINE in text
    trust.write_text(text.replace(LOOKUP_LINE, f'{LOOKUP_LINE}postcode_lookup = "{name}"\n', 1))
    return trust


@pytest.fixture(scope="module")
def looked_up(tmp_path_factory: pytest.TempPathFactory) -> TrustConfig:
    """The example trust with a lookup built from the NSPL fixture."""
    trust = trust_with_lookup(tmp_path_factory.mktemp("trust"))
    import_postcodes(NSPL, lookup_path(trust))
    return load_trust_config(trust)


def locate(config: TrustConfig, postcode: str) -> AuthorityMatch:
    contact = make_contact(household=[member(date(2016, 6, 1))], postcode=postcode)
    return (
        ThinkFamily(config, entry_points=False)
        .assess(contact, now=contact.occurred_at, present=False)
        .authority
    )


def confirm_detail(config: TrustConfig, postcode: str) -> str | None:
    contact = make_contact(household=[member(date(2016, 6, 1))], postcode=postcode)
    result = ThinkFamily(config, entry_points=False).assess(
        contact, now=contact.occurred_at, present=False
    )
    prompt = result.prompt(PromptCode.CONFIRM_AUTHORITY)
    return prompt.detail if prompt else None


def csv_dict(path: Path) -> dict[str, tuple[str, ...]]:
    """The plain answer: live postcodes with an authority -> (district, county if any)."""
    table: dict[str, tuple[str, ...]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            district = row.get("laua") or row.get("oslaua") or ""
            county = row.get("cty") or row.get("oscty") or ""
            if row["doterm"] or not district or district.endswith("99999999"):
                continue
            codes = (district,) if not county or county.endswith("99999999") else (district, county)
            table["".join(row["pcds"].split())] = codes
    return table


# Routing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "authority"),
    [
        ("E11 1AA", "redbridge"),
        ("E11 3AA", "waltham-forest"),
        ("RM6 4AA", "barking-and-dagenham"),
        ("RM6 5AA", "redbridge"),
        ("N4 2AA", "hackney"),
        ("N4 1AA", "islington"),
    ],
)
def test_postcode_in_a_district_shared_by_two_boroughs_routes_by_the_postcode(
    looked_up: TrustConfig, postcode: str, authority: str
) -> None:
    match = locate(looked_up, postcode)
    assert match.authority is not None and match.authority.id == authority
    assert match.reason == "from postcode lookup"
    assert confirm_detail(looked_up, postcode) is None


def test_without_a_lookup_the_same_shared_district_asks_naming_both_boroughs(
    config: TrustConfig,
) -> None:
    match = locate(config, "E11 3AA")
    assert match.authority is None
    assert [a.id for a in match.candidates] == ["redbridge", "waltham-forest"]


def test_postcode_of_an_authority_outside_the_directory_asks_and_names_its_ons_code(
    looked_up: TrustConfig,
) -> None:
    match = locate(looked_up, "SW1A 1AA")
    assert (match.authority, match.candidates) == (None, ())
    assert confirm_detail(looked_up, "SW1A 1AA") == (
        "a postcode is in ONS local authority area E09000033, which is not in the trust's directory"
    )


def test_two_tier_postcode_outside_the_directory_names_district_and_county(
    looked_up: TrustConfig,
) -> None:
    detail = confirm_detail(looked_up, "CM16 4AA")
    assert detail is not None and "E07000072 (county E10000012)" in detail


def test_terminated_postcode_is_not_used_and_its_shared_district_asks(
    looked_up: TrustConfig,
) -> None:
    lookup = looked_up.directory.postcodes
    assert lookup is not None and lookup.codes_for("E11 2ZZ") == ()
    match = locate(looked_up, "E11 2ZZ")  # the CSV said Redbridge, but the postcode has ended
    assert match.authority is None
    assert [a.id for a in match.candidates] == ["redbridge", "waltham-forest"]


def test_postcode_missing_from_the_lookup_falls_back_to_an_unshared_district(
    looked_up: TrustConfig,
) -> None:
    match = locate(looked_up, "IG2 6ZZ")  # IG2 is wholly Redbridge; the fixture lacks the unit
    assert match.authority is not None and match.authority.id == "redbridge"
    assert match.reason == "from postcode"


def lookup_from(source: Path, folder: Path) -> PostcodeLookup:
    out = folder / f"{source.stem}.lookup"
    import_postcodes(source, out)
    return open_lookup(out)


def test_county_code_in_the_directory_takes_a_two_tier_postcode(tmp_path: Path) -> None:
    essex = AuthorityEntry("essex", "Essex", ("CM16",), OfficeHours(), {}, gss="E10000012")
    directory = Directory(
        {"essex": essex}, RouteEntry(Channel.PHONE, phone="999"), lookup_from(NSPL, tmp_path)
    )
    children = children_in(
        [member(date(2016, 6, 1), postcode="CM16 4AA")], date(2026, 3, 2), pregnant=False
    )
    match = locate_authority(directory, make_contact(postcode="N7 8JL"), children)
    assert match.authority is not None and match.authority.id == "essex"


def test_lookup_gives_the_district_first_then_the_county(tmp_path: Path) -> None:
    lookup = lookup_from(NSPL, tmp_path)
    assert lookup.codes_for("CM16 4AA") == ("E07000072", "E10000012")
    assert lookup.codes_for("N7 8JL") == ("E09000019",)
    assert lookup.codes_for("GY1 1AA") == ()  # ONS gives it no local authority


# Normalisation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["E11 3AA", "e11 3aa", "E113AA", "  e11   3Aa ", "E11\t3AA"])
def test_postcodes_are_found_whatever_their_case_and_spacing(
    looked_up: TrustConfig, raw: str
) -> None:
    lookup = looked_up.directory.postcodes
    assert lookup is not None and lookup.codes_for(raw) == ("E09000031",)


@pytest.mark.parametrize("raw", ["E11", "E11 3", "E11 3AAA", "11 3AA", "E11-3AA", ""])
def test_partial_or_malformed_postcodes_are_not_looked_up(raw: str) -> None:
    assert postcode_key(raw) is None


def test_keys_sort_as_ons_sorts_postcodes() -> None:
    ordered = ["N1 0AA", "N1 9GU", "N16 8AA", "N4 1AA", "NW1 1AA", "SW19 1ZZ", "SW1A 1AA"]
    keys = [postcode_key(p) for p in ordered]
    assert None not in keys and keys == sorted(keys)  # type: ignore[type-var]


# Corpus equality: the lookup answers as a plain dict built from the same CSV --------------------


def assert_same_answers(lookup: PostcodeLookup, source: Path) -> None:
    expected = csv_dict(source)
    with source.open(newline="") as handle:
        every = ["".join(row["pcds"].split()) for row in csv.DictReader(handle)]
    assert len(lookup) == len(expected)
    for postcode in every:
        assert lookup.codes_for(postcode) == expected.get(postcode, ()), postcode


@pytest.mark.parametrize("source", [NSPL, ONSPD], ids=["nspl-laua", "onspd-oslaua"])
def test_lookup_gives_the_same_answers_as_a_plain_dict_built_from_the_csv(
    source: Path, tmp_path: Path
) -> None:
    assert_same_answers(lookup_from(source, tmp_path), source)


def test_onspd_header_with_oslaua_and_oscty_is_read(tmp_path: Path) -> None:
    lookup = lookup_from(ONSPD, tmp_path)
    assert lookup.codes_for("BT1 1AA") == ("N09000003",)
    assert lookup.codes_for("CM16 4AA") == ("E07000072", "E10000012")
    assert lookup.codes_for("E11 2ZZ") == ()  # terminated


def synthetic_corpus(path: Path, rows: int, seed: int, *, quoted: bool, shuffled: bool) -> None:
    """An NSPL-shaped file of random postcodes, some terminated, some in no authority."""
    rng = random.Random(seed)
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    codes = [f"E09{n:06d}" for n in range(1, 34)] + ["W06000015", "S12000036", "E07000072"]
    seen: set[str] = set()
    lines = []
    while len(lines) < rows:
        area = rng.choice(["E", "N", "SW", "IG", "RM", "EC", "CM", "W"])
        number = rng.randrange(1, 5) if area == "EC" else rng.randrange(1, 30)
        district = f"{area}{number}" + (rng.choice("AMNRVY") if area == "EC" else "")
        postcode = f"{district} {rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"
        if postcode in seen:
            continue
        seen.add(postcode)
        ended = f"20{rng.randrange(10, 24)}0{rng.randrange(1, 10)}" if rng.random() < 0.3 else ""
        laua = "L99999999" if rng.random() < 0.02 else rng.choice(codes)
        cty = "E10000012" if laua == "E07000072" else "E99999999"
        fields = [postcode.replace(" ", ""), postcode, postcode, "198001", ended, "0", cty, laua]
        lines.append(",".join(f'"{f}"' if quoted else f for f in fields))
    if not shuffled:
        lines.sort(key=lambda line: postcode_key(line.split(",")[2].strip('"')) or 0)
    else:
        rng.shuffle(lines)
    header = "pcd,pcd2,pcds,dointr,doterm,usertype,cty,laua"
    path.write_text("\n".join([header, *lines]) + "\n")


@pytest.mark.parametrize(
    ("quoted", "shuffled"), [(True, False), (False, True)], ids=["sorted-quoted", "shuffled-bare"]
)
def test_larger_corpus_gives_the_same_answers_as_a_plain_dict(
    tmp_path: Path, quoted: bool, shuffled: bool
) -> None:
    source = tmp_path / "corpus.csv"
    synthetic_corpus(source, 5000, seed=11, quoted=quoted, shuffled=shuffled)
    assert_same_answers(lookup_from(source, tmp_path), source)


def test_quoted_comma_before_the_authority_column_still_gives_the_same_answers(
    tmp_path: Path,
) -> None:
    # A comma inside quotes shifts a naive split; the importer notices and reads with csv.
    source = tmp_path / "commas.csv"
    text = NSPL.read_text().replace('"E00000001"', '"E00000001, part"', 3)
    source.write_text(text)
    assert_same_answers(lookup_from(source, tmp_path), source)


def test_windows_line_endings_give_the_same_answers(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"  # the authority is the last column, so it ends in \r
    short.write_bytes(b'pcds,doterm,laua\r\n"E11 1AA","","E09000026"\r\nE11 3AA,,E09000031\r\n')
    wide = tmp_path / "wide.csv"
    wide.write_bytes(NSPL.read_bytes().replace(b"\n", b"\r\n"))
    for source in (short, wide):
        assert_same_answers(lookup_from(source, tmp_path), source)


# The import command and the configuration -------------------------------------------------------


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_import_command_writes_the_lookup_and_config_check_accepts_it(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    trust = trust_with_lookup(tmp_path / "trust")
    written = tmp_path / "trust" / "data" / "postcodes.lookup"
    before = run(thinkfamily_script, "config", "check", str(trust))
    assert before.returncode == 1
    assert f"{trust}: trust.postcode_lookup: {written}: file not found" in before.stderr

    made = run(thinkfamily_script, "postcodes", "import", str(NSPL), "--config", str(trust))
    assert made.returncode == 0, made.stderr
    assert written.is_file()
    assert f"{written}: 31 postcodes in 15 local authorities, from 34 rows" in made.stdout
    assert "left out: 2 terminated, 1 without a local authority" in made.stdout

    after = run(thinkfamily_script, "config", "check", str(trust))
    assert after.returncode == 0, after.stderr
    assert "postcode_lookup" not in after.stdout + after.stderr  # no fault with the lookup


def test_import_without_a_lookup_named_in_the_trust_file_says_which_key_to_set(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    for source in CONFIG_DIR.glob("*.toml"):
        shutil.copy(source, tmp_path / source.name)
    trust = tmp_path / "example-trust.toml"
    result = run(thinkfamily_script, "postcodes", "import", str(NSPL), "--config", str(trust))
    assert result.returncode == 2
    assert f"{trust}: trust.postcode_lookup: is not set" in result.stderr


def test_csv_without_the_ons_columns_is_refused_naming_them(tmp_path: Path) -> None:
    source = tmp_path / "other.csv"
    source.write_text("postcode,council\nE11 1AA,Redbridge\n")
    with pytest.raises(PostcodeImportError, match="no 'pcds' column"):
        import_postcodes(source, tmp_path / "out.lookup")


def test_config_naming_a_missing_lookup_is_an_error_with_file_key_and_reason(
    tmp_path: Path,
) -> None:
    trust = trust_with_lookup(tmp_path, "nowhere.lookup")
    with pytest.raises(ConfigError) as caught:
        load_trust_config(trust)
    (issue,) = caught.value.issues
    assert (issue.file, issue.key) == (str(trust), "trust.postcode_lookup")
    assert issue.reason.startswith(f"{tmp_path / 'nowhere.lookup'}: file not found")


def test_damaged_lookup_is_a_config_error(tmp_path: Path) -> None:
    trust = trust_with_lookup(tmp_path)
    import_postcodes(NSPL, lookup_path(trust))
    damaged = bytearray(lookup_path(trust).read_bytes())
    damaged[-1] ^= 0xFF
    lookup_path(trust).write_bytes(bytes(damaged))
    errors = [i for i in check_trust_config(trust) if i.severity == "error"]
    assert [(i.key, "damaged" in i.reason) for i in errors] == [("trust.postcode_lookup", True)]
    with pytest.raises(LookupFormatError):
        PostcodeLookup(bytes(damaged))


def test_lookup_built_for_other_places_is_accepted_and_its_postcodes_ask(tmp_path: Path) -> None:
    source = tmp_path / "scotland.csv"
    source.write_text('pcds,doterm,laua\n"EH1 1AA","","S12000036"\n"G1 1AA","","S12000049"\n')
    trust = trust_with_lookup(tmp_path / "trust")
    import_postcodes(source, lookup_path(trust))
    config = load_trust_config(trust)
    unreachable = [w.key for w in config.warnings if w.key.endswith(".gss")]
    assert "authorities.redbridge.gss" in unreachable
    assert confirm_detail(config, "EH1 1AA") == (
        "a postcode is in ONS local authority area S12000036, which is not in the trust's directory"
    )
    match = locate(config, "N7 8JL")  # not in this lookup: the directory's districts still work
    assert match.authority is not None and match.authority.id == "islington"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ('gss = "E09000012"', 'gss = "Hackney"', "is not an ONS code like E09000019"),
        (
            'gss = "E09000012"',
            'gss = "E09000019"',
            "E09000019 is also given for authorities.islington",
        ),
    ],
    ids=["not-a-code", "twice"],
)
def test_authority_gss_must_be_one_ons_code_per_authority(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    trust = trust_with_lookup(tmp_path)
    directory = tmp_path / "authorities.toml"
    directory.write_text(directory.read_text().replace(old, new, 1))
    errors = [i for i in check_trust_config(trust) if i.severity == "error"]
    assert (str(directory), "authorities.hackney.gss", reason) in [
        (i.file, i.key, i.reason) for i in errors
    ]


def test_every_authority_in_the_example_directory_has_its_ons_code(config: TrustConfig) -> None:
    codes = {a.id: a.gss for a in config.directory.authorities.values()}
    assert codes["redbridge"] == "E09000026" and codes["islington"] == "E09000019"
    assert all(code.startswith("E09") for code in codes.values()), codes
    assert len(set(codes.values())) == len(codes)
