import asyncio
import logging

from doorbell.listener import listen, notify_all


def main():  # pragma: no cover
    logging.basicConfig(level=logging.INFO)

    async def send(phone, text):
        logging.info("push %s: %s", phone, text)

    async def notify(ring):
        await notify_all(ring, ["kitchen-tablet"], send)

    asyncio.run(listen(notify))


if __name__ == "__main__":
    main()
