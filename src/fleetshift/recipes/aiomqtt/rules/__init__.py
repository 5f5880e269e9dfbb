"""The breaking changes from asyncio-mqtt 0.16 / aiomqtt 1.x to aiomqtt 2.x: one module per rule."""

RECIPE_ID = "aiomqtt"
CHANGELOG = "https://github.com/empicano/aiomqtt/blob/v2.5.1/CHANGELOG.md"
GUIDE = "https://github.com/empicano/aiomqtt/blob/v2.5.1/docs/migration-guide-v2.md"
LINK = CHANGELOG
