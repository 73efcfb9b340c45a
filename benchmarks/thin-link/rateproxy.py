#!/usr/bin/env python3
# rateproxy.py LISTEN_PORT TARGET_PORT DELAY_MS MBPS: a TCP proxy on loopback that delays every
# chunk by DELAY_MS each way and paces each connection's direction to MBPS megabytes per second.
import asyncio, sys, time
listen, target, delay_ms, mbps = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
delay, rate = delay_ms / 1000.0, mbps * 1e6

async def pump(reader, writer):
    q = asyncio.Queue()
    async def produce():
        while True:
            data = await reader.read(65536)
            await q.put((time.monotonic(), data))
            if not data:
                return
    async def consume():
        next_free = 0.0
        while True:
            stamp, data = await q.get()
            now = time.monotonic()
            wait = max(stamp + delay, next_free) - now
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                try:
                    writer.write_eof()
                except Exception:
                    pass
                return
            writer.write(data)
            await writer.drain()
            next_free = max(time.monotonic(), next_free) + len(data) / rate
    await asyncio.gather(produce(), consume())

async def handle(cr, cw):
    try:
        sr, sw = await asyncio.open_connection('127.0.0.1', target)
    except Exception:
        cw.close(); return
    try:
        await asyncio.gather(pump(cr, sw), pump(sr, cw))
    except Exception:
        pass
    finally:
        cw.close(); sw.close()

async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', listen)
    async with server:
        await server.serve_forever()
asyncio.run(main())
