from rag_service.store import DocumentStore


def test_best_match_first():
    store = DocumentStore()
    store.add("manuals", "dishwasher", "Dishwasher error E24: drain pump blocked, clean the filter")
    store.add("manuals", "boiler", "Boiler pressure too low: refill to 1.5 bar")
    store.add("notes", "bins", "Bins go out on Tuesday evening")
    hits = store.search("how to clean the dishwasher filter")
    assert [h.doc_id for h in hits] == ["dishwasher"]


def test_removed_documents_are_not_found():
    store = DocumentStore()
    store.add("notes", "wifi", "guest wifi password is on the fridge")
    store.remove("notes", "wifi")
    assert store.search("wifi password") == []
