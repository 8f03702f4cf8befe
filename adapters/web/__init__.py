"""The clinician web pages: the form a nurse opens from a card or the record to answer the
Think Family prompts and record the information-sharing decision."""
