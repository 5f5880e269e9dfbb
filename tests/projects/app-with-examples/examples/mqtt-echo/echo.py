import asyncio
import sys

from asyncio_mqtt import Client


async def main(host, topic):
    async with Client(host) as client:
        async with client.filtered_messages(topic) as messages:
            await client.subscribe(topic)
            async for message in messages:
                await client.publish(f"{message.topic}/echo", message.payload)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "localhost", "echo/#"))
