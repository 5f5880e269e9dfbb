import asyncio

from mqtt2influx.bridge import Bridge, settings


def main():  # pragma: no cover
    asyncio.run(Bridge(settings()).run())


if __name__ == "__main__":
    main()
