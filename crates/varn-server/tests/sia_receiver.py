"""A SIA DC-09 receiver for the tests, built on pysiaalarm (PyPI), which nobody here wrote:
its parser checks each message's CRC, decrypts it with the account's key, checks the
timestamp against its clock and answers ACK, NAK or DUH as an alarm centre would.

    python sia_receiver.py --port PORT --account AAA [--key KEY] [--nak-first N] [--duh-first N]

Prints `LISTENING <port>` once it accepts connections, then one JSON line for every message
it answered: the answer, the code, the account, the zone, the text, the extended data (by
identifier), the sequence, whether it was encrypted and whether its timestamp was valid. With --nak-first N it answers the first N
messages NAK (as a centre does with a timestamp it refuses) before answering normally; with
--duh-first N, DUH (a message it does not understand). Those two are framed as pysiaalarm
frames its own answers (CRC, length, the message's sequence, receiver, line and account).
"""

import argparse
import asyncio
import json
import sys

from pysiaalarm import SIAAccount, SIAEvent
from pysiaalarm.aio.server import SIAServerTCP
from pysiaalarm.utils import Counter


def frame(body: str) -> bytes:
    """A whole DC-09 frame around `body`, with pysiaalarm's own CRC."""
    crc = SIAEvent._crc_calc(body)
    return f"\n{crc}{len(body):04X}{body}\r".encode("ascii")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--key", default=None)
    parser.add_argument("--nak-first", type=int, default=0)
    parser.add_argument("--duh-first", type=int, default=0)
    args = parser.parse_args()

    account = SIAAccount(args.account, args.key)
    accounts = {account.account_id: account}
    naks = {"left": args.nak_first, "duh": args.duh_first}

    async def on_event(event) -> None:
        return None

    server = SIAServerTCP(accounts, on_event, Counter())

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                data = await reader.read(1000)
            except ConnectionResetError:
                break
            if not data:
                break
            event = server.parse_and_check_event(data)
            if event is None:
                continue
            if naks["left"] > 0:
                naks["left"] -= 1
                answer = frame('"NAK"0000R0L0A0[]' + event._get_timestamp())
                kind = "NAK"
            elif naks["duh"] > 0 and str(getattr(event.message_type, "value", "")) != "NULL":
                naks["duh"] -= 1
                answer = frame(
                    f'"DUH"{event.sequence}{event.receiver or ""}{event.line}#{event.account}[]'
                )
                kind = "DUH"
            else:
                answer = event.create_response()
                kind = event.response.value if event.response else "NONE"
            writer.write(answer)
            await writer.drain()
            print(
                json.dumps(
                    {
                        "answer": kind,
                        "type": str(getattr(event.message_type, "value", event.message_type)),
                        "code": event.code,
                        "account": event.account,
                        "zone": event.ri,
                        "text": (event.message or "").strip(),
                        "xdata": {x.identifier: x.value for x in (event.extended_data or [])},
                        "sequence": event.sequence,
                        "encrypted": bool(event.encrypted),
                        "valid_timestamp": bool(event.valid_timestamp),
                        "valid_crc": bool(getattr(event, "valid_message", False)),
                    }
                ),
                flush=True,
            )
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", args.port)
    print(f"LISTENING {srv.sockets[0].getsockname()[1]}", flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
