"""What python-dotenv changed between 0.2x/1.0 and 1.2.x: one module per rule."""

RECIPE_ID = "python-dotenv"
CHANGELOG = "https://github.com/theskumar/python-dotenv/blob/main/CHANGELOG.md"
PR = "https://github.com/theskumar/python-dotenv/pull/"
LINK = CHANGELOG
