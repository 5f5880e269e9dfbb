import replay


def test_module_imports():
    assert callable(replay.replay)
