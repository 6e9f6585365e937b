"""An agent speaking HTTP/2 through the proxy with httpx (http2=True), as Python SDKs do.

Usage: httpx_client.py PROXY_URL CA_FILE UPLOAD_BYTES URL...
POSTs UPLOAD_BYTES bytes to each URL at once from one AsyncClient (so on one connection,
multiplexed: the first request opens it, the others are sent together once it is up), and prints
one JSON line per response: url, http_version, status, text.
"""

import asyncio
import json
import sys

import httpx


async def main() -> None:
    proxy, ca_file, upload_bytes, *urls = sys.argv[1:]
    body = b"h" * int(upload_bytes)
    async with httpx.AsyncClient(http2=True, proxy=proxy, verify=ca_file, timeout=30) as client:
        first = await client.post(urls[0], content=body)
        rest = await asyncio.gather(*(client.post(url, content=body) for url in urls[1:]))
        for response in [first, *rest]:
            print(json.dumps({
                "url": str(response.url),
                "http_version": response.http_version,
                "status": response.status_code,
                "text": response.text[:64],
            }))


if __name__ == "__main__":
    asyncio.run(main())
