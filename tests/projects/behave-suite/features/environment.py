from pathlib import Path

from dotenv import load_dotenv


def before_all(context):
    load_dotenv(Path(__file__).parent.parent / ".env.test", override=True)


def before_scenario(context, scenario):
    context.error = None
