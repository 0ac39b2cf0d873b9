"""A stand-in for rulec-lsp in editors/test.sh: just enough LSP over stdio for Neovim to
start a client and attach it (initialize, shutdown, exit; other requests get null).
The headless test checks how the editor config starts the server, not the server."""
import json
import sys

inp, out = sys.stdin.buffer, sys.stdout.buffer


def read_message():
    length = None
    while True:
        line = inp.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(inp.read(length)) if length is not None else {}


def send(message):
    body = json.dumps(message).encode()
    out.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    out.flush()


while (msg := read_message()) is not None:
    if msg.get("method") == "exit":
        break
    if "id" in msg and "method" in msg:
        result = None
        if msg["method"] == "initialize":
            result = {"capabilities": {}, "serverInfo": {"name": "fake-rulec-lsp"}}
        send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
