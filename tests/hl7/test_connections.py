"""The admission rules alone: who gives way to a new connection, and when one is refused."""

from __future__ import annotations

from adapters.hl7.connections import ConnectionPolicy, Slot, admit, peer_of


def slot(peer: str, last_message: float, *, busy: bool = False) -> Slot:
    return Slot(peer, opened=0.0, last_message=last_message, busy=busy)


def test_full_listener_gives_up_the_connection_heard_from_longest_ago() -> None:
    slots = [slot("10.0.0.1", 5.0), slot("10.0.0.2", 1.0), slot("10.0.0.3", 3.0)]
    decision = admit(ConnectionPolicy(max_connections=3, max_per_peer=0), slots, "10.0.0.4")
    assert decision.admitted and decision.saturated
    assert decision.close == (slots[1],)


def test_connection_in_the_middle_of_a_commit_is_never_closed_for_a_new_one() -> None:
    slots = [slot("10.0.0.1", 1.0, busy=True), slot("10.0.0.2", 2.0)]
    decision = admit(ConnectionPolicy(max_connections=2, max_per_peer=0), slots, "10.0.0.3")
    assert decision.close == (slots[1],)
    every_one_busy = [slot("10.0.0.1", 1.0, busy=True), slot("10.0.0.2", 2.0, busy=True)]
    refused = admit(ConnectionPolicy(max_connections=2, max_per_peer=0), every_one_busy, "x")
    assert (refused.admitted, refused.reason, refused.saturated) == (False, "full", True)


def test_sender_at_its_cap_gives_up_its_own_connection_not_another_senders() -> None:
    slots = [slot("10.0.0.9", 0.5), slot("10.0.0.1", 2.0), slot("10.0.0.1", 4.0)]
    decision = admit(ConnectionPolicy(max_connections=10, max_per_peer=2), slots, "10.0.0.1")
    assert decision.admitted and decision.peer_capped and not decision.saturated
    assert decision.close == (slots[1],)


def test_sender_at_its_cap_and_a_full_listener_each_give_up_one() -> None:
    slots = [slot("10.0.0.9", 0.5), slot("10.0.0.1", 2.0), slot("10.0.0.1", 4.0)]
    decision = admit(ConnectionPolicy(max_connections=2, max_per_peer=2), slots, "10.0.0.1")
    assert decision.admitted and decision.peer_capped and decision.saturated
    assert decision.close == (slots[1], slots[0])


def test_sender_at_its_cap_with_every_connection_busy_is_refused() -> None:
    slots = [slot("10.0.0.1", 1.0, busy=True)]
    decision = admit(ConnectionPolicy(max_per_peer=1), slots, "10.0.0.1")
    assert (decision.admitted, decision.reason) == (False, "peer")


def test_connections_already_closing_hold_no_slot() -> None:
    gone = slot("10.0.0.1", 1.0)
    gone.closing = True
    decision = admit(ConnectionPolicy(max_connections=1, max_per_peer=1), [gone], "10.0.0.1")
    assert decision.admitted and not decision.saturated and decision.close == ()


def test_ipv4_sender_over_an_ipv6_socket_is_matched_by_its_ipv4_network() -> None:
    assert peer_of(("::ffff:10.1.2.3", 40000, 0, 0)) == "10.1.2.3"
    assert peer_of(("fe80::1%eth0", 40000, 0, 2)) == "fe80::1"
