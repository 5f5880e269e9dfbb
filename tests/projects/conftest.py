# The projects below are separate repositories with their own tests, run in their own
# environments (see README.md and tests/test_projects_corpus.py); fleetshift's own run
# must not collect them.
collect_ignore_glob = ["*"]
