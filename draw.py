"""Draw digits in the browser and watch the model read them, as you draw.

Read this file to learn how little it takes to put a model behind a web page: Python's standard
library serves one page (draw.html, plain HTML, CSS and JavaScript) and answers one request,
POST /predict, whose body is an image file. The answer comes from predict.py's own functions, so
the page shows exactly what `python predict.py` would say about the same picture, numbers and
"not a digit" included, and the 28x28 inputs the model saw. The page only draws and displays.

    python draw.py                                   # then open http://127.0.0.1:8000
    python draw.py --checkpoint checkpoints/cnn-fashion-mnist.pt --port 8001
"""

from __future__ import annotations

import argparse
import base64
import errno
import io
import json
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

import common
import predict
import prepare

PAGE = Path(__file__).with_name("draw.html")
MAX_BODY = 10 * 1024 * 1024  # bytes: far more than any photo of a digit needs


def png_data_url(picture: Image.Image) -> str:
    """A picture as a PNG data URL, which an <img> shows without another request."""
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class Handler(BaseHTTPRequestHandler):
    """Answers GET / with the page, POST /predict with a reading, anything else with 404."""

    reader: predict.Reader
    page: bytes
    lock = threading.Lock()  # one reading at a time: each already uses every core the model can

    def send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, answer: dict) -> None:
        self.send(status, json.dumps(answer).encode())

    def do_GET(self) -> None:
        if self.path in ("/", "/index.html"):
            self.send(HTTPStatus.OK, self.page, "text/html; charset=utf-8")
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {self.path}"})

    def do_POST(self) -> None:
        if self.path != "/predict":
            self.send_json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {self.path}"})
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.send_json(HTTPStatus.LENGTH_REQUIRED, {"error": "send the image with a Content-Length"})
            return
        if length > MAX_BODY:
            # Answer without reading the body, and close the connection rather than read what follows.
            self.close_connection = True
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           {"error": f"image too large: {length:,} bytes, at most {MAX_BODY:,}"})
            return
        body = self.rfile.read(length) if length > 0 else b""
        if not body:
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": "empty request: send an image file as the body"})
            return
        try:
            with self.lock:
                found = self.reader.prepare(prepare.read_image(io.BytesIO(body)))
                probs = predict.probabilities(self.reader, found.items)
                result = predict.read(self.reader, "upload", found, probs)
        except prepare.ImageError as error:  # not an image, a decompression bomb, a blank drawing
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
            return
        except Exception as error:  # anything unforeseen: an answer, and the server goes on
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": f"could not read it ({type(error).__name__}: {error})"})
            return
        # Beyond what predict.py --json prints: the inputs the model saw, and every class's probability.
        result["inputs"] = [png_data_url(predict.as_image(item.pixels)) for item in found.items]  # 28x28
        result["ink"] = png_data_url(predict.ink_picture(found))  # what was taken for ink, and the cuts
        result["classes"] = self.reader.classes
        result["probabilities"] = [[round(p, 4) for p in row] for row in probs.tolist()]
        self.send_json(HTTPStatus.OK, result)

    def log_message(self, format: str, *args) -> None:
        pass  # the page asks after every stroke: a line for each would bury what matters


def port_number(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 0 to 65535, got {text}")
    return port


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--checkpoint", default=str(predict.DEFAULT_CHECKPOINT),
                        help="a checkpoint written by train_cnn.py or train_mlp.py")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; the default lets only this computer in")
    parser.add_argument("--port", type=port_number, default=8000, help="port to listen on (0: any free port)")
    args = parser.parse_args(argv)

    reader = predict.load_reader(Path(args.checkpoint))  # loaded once, for every request
    Handler.reader, Handler.page = reader, PAGE.read_bytes()
    try:
        # A thread per request: a slow upload from one tab does not hold up the others.
        server = ThreadingHTTPServer((args.host, args.port), Handler)
    except OSError as error:
        advice = "; pick another with --port" if error.errno == errno.EADDRINUSE else ""
        raise common.UserError(f"cannot listen on {args.host}:{args.port}: {error.strerror}{advice}") from None
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}: anyone who can reach this computer can use the page",
              file=sys.stderr)
    host, port = server.server_address[:2]
    try:
        print(f"open http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port} in your browser; Ctrl-C stops it",
              flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()


if __name__ == "__main__":
    common.run(main)
