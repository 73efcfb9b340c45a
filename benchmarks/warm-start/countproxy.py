#!/usr/bin/env python3
# countproxy.py LISTEN_PORT TARGET_PORT LOG: a TCP proxy on loopback that passes bytes through unchanged
# and appends one line per HTTP request it sees going to the server to LOG: "SECONDS METHOD TARGET",
# SECONDS from time.time(). It finds requests by their request line at the start of a line, so a
# request body holding such a line would be counted too; the workloads it is for send no bodies.
import asyncio, re, sys, time
listen, target, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
REQUEST = re.compile(rb'(?:^|\n)(GET|HEAD|PUT|POST|DELETE) (\S+) HTTP/1\.[01]\r\n')
log = open(log_path, 'a', buffering=1)

class RequestLines:
    """Logs the request lines in the bytes fed to it; a line is looked at once it is whole."""
    def __init__(self):
        self.pending = b''

    def feed(self, data):
        self.pending += data
        cut = self.pending.rfind(b'\n')
        if cut < 0:
            self.pending = self.pending[-8192:]
            return
        for m in REQUEST.finditer(self.pending[:cut + 1]):
            log.write('%.3f %s %s\n' % (time.time(), m.group(1).decode(), m.group(2).decode('latin-1')))
        self.pending = self.pending[cut:]  # keep the newline: the next line starts after it

async def pump(reader, writer, watch=None):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
        if watch:
            watch(data)
    writer.write_eof()

async def handle(cr, cw):
    try:
        sr, sw = await asyncio.open_connection('127.0.0.1', target)
    except Exception:
        cw.close(); return
    try:
        await asyncio.gather(pump(cr, sw, RequestLines().feed), pump(sr, cw))
    except Exception:
        pass
    finally:
        for w in (sw, cw):
            try:
                w.close()
            except Exception:
                pass

async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', listen)
    async with server:
        await server.serve_forever()

asyncio.run(main())
