"""Draw digits in the browser and watch the model read them, as you draw.

Read this file to learn how little it takes to put a model behind a web page: Python's standard
library serves one page (draw.html, plain HTML, CSS and JavaScript) and answers one request,
POST /predict, whose body is an image file. The answer comes from predict.py's own functions, so
the page shows exactly what `python predict.py` would say about the same picture, numbers and
"not a digit" included, and the 28x28 inputs the model saw. The page only draws and displays.
With --collect, it also labels: a button per class saves the drawing as your own example of it,
for finetune.py to teach the network your handwriting.

    python draw.py                                   # then open http://127.0.0.1:8000
    python draw.py --checkpoint checkpoints/cnn-fashion-mnist.pt --port 8001
    python draw.py --collect my-digits/              # save labelled drawings in my-digits/0 ... my-digits/9
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import errno
import io
import json
import re
import socket
import sys
import threading
import time
from contextlib import suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from PIL import Image

import common
import files
import images
import predict
import prepare
import report

PAGE = Path(__file__).with_name("draw.html")
MAX_BODY = 10 * 1024 * 1024  # bytes: far more than any photo of a digit needs
# A PNG is decoded whole: a server that did so with 50 megapixels for anyone could be made to hold gigabytes.
# 16 is more than a phone's photo; a JPEG, decoded smaller (images.shrink_while_decoding), may be as large.
MAX_PIXELS = 16_000_000
REQUEST_SECONDS = 10  # to send a whole request, headers and body: a client that dawdles is cut off
MAX_CONNECTIONS = 32  # at once; more are refused with 503, so that idle connections cannot exhaust threads
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)
# Linux's C library (glibc) keeps the memory a large picture took for later, so that the server would
# go on holding it; after such a picture, malloc_trim hands it back. Other systems go without.
LARGE_PIXELS = 2_000_000
give_memory_back = getattr(ctypes.CDLL(None), "malloc_trim", None) if sys.platform == "linux" else None


def png_data_url(picture: Image.Image) -> str:
    """A picture as a PNG data URL, which an <img> shows without another request."""
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def cut_off(connection: socket.socket) -> None:
    """End a connection's reads and writes at once, from another thread."""
    with suppress(OSError):  # already closed
        connection.shutdown(socket.SHUT_RDWR)


class LabelError(ValueError):
    """A label that names no class, or does not fit the picture it was given to."""


MAX_COLLECTED = 1000  # pictures that one run of --collect saves, at most
MAX_COLLECTED_BYTES = 50 * 1024 * 1024  # and bytes of them: a full disk must not be one click away
MAX_NUMBER = 12  # digits in a number labelled as a whole


class Collection:
    """Your labelled examples, for finetune.py: folder/<class>/<time>-<n>.png, one folder per class.

    Only pictures that the server decoded itself are written, re-encoded as PNG, only inside the
    folder, under names it makes, and never over a file; Undo takes back only what it wrote."""

    def __init__(self, folder: Path, classes: list[str]):
        self.folder, self.classes = folder, classes
        self.saved: list[list[Path]] = []  # the files of each save, the newest last
        self.count, self.bytes = 0, 0

    def state(self) -> dict:
        """What the page shows: the folder, the classes and how many examples each one has there."""
        folders = [self.folder / common.class_folder(name) for name in self.classes]
        counts = [sum(p.suffix.lower() in predict.IMAGE_SUFFIXES for p in folder.iterdir()) if folder.is_dir() else 0
                  for folder in folders]
        return {"folder": str(self.folder), "classes": self.classes, "counts": counts}

    def pictures(self, picture: Image.Image, found: prepare.Found, label: str) -> list[tuple[str, Image.Image]]:
        """What a label means: the whole picture as one class, or each digit of a number on its own."""
        scale = images.decoded_scale(picture)  # boxes are in the file's pixels; a large JPEG was decoded smaller
        picture = images.upright(picture)
        if picture.mode not in ("L", "LA", "RGB", "RGBA"):  # 16-bit, a palette, CMYK: as the grey predict.py sees
            picture = Image.fromarray((images.to_grey(picture) * 255).round().byte().numpy())
        if label in self.classes:
            return [(label, picture)]
        if not (label.isdecimal() and label.isascii() and 1 < len(label) <= MAX_NUMBER and "0" in self.classes):
            raise LabelError(f"label {label[:20]!r} is neither a class ({', '.join(self.classes)}) nor a number")
        if len(found.items) != len(label):
            raise LabelError(f"{len(found.items)} digits found in the picture, but {label} has {len(label)}: "
                             "leave a little room between them, or save them one by one")
        paper = Image.new("RGB", picture.size, "white")  # each digit alone on white, a margin around it
        paper.paste(picture.convert("RGB"), mask=picture.convert("RGBA").getchannel("A"))
        digits = []
        for digit, item in zip(label, found.items):
            left, top, right, bottom = box = tuple(round(v * scale) for v in item.box)
            margin = max(4, (bottom - top) // 4)
            alone = Image.new("RGB", (right - left + 2 * margin, bottom - top + 2 * margin), "white")
            alone.paste(paper.crop(box), (margin, margin))
            digits.append((digit, alone))
        return digits

    def save(self, picture: Image.Image, found: prepare.Found, label: str) -> dict:
        """Save a decoded picture under its label: one file, or one per digit of a number."""
        pictures = self.pictures(picture, found, label)
        if self.count + len(pictures) > MAX_COLLECTED or self.bytes > MAX_COLLECTED_BYTES:
            raise common.WriteError(f"this run of draw.py has saved all it may ({MAX_COLLECTED} pictures, "
                                    f"{MAX_COLLECTED_BYTES // 2**20} MB); start it again to save more")
        written: list[Path] = []
        try:
            for name, image in pictures:
                self.count += 1
                path = self.folder / common.class_folder(name) / f"{time.strftime('%Y%m%d-%H%M%S')}-{self.count}.png"
                while path.exists():  # never over a file: not ours, or ours from an earlier run
                    path = path.with_name(f"{path.stem}x.png")
                report.save_png(image, path)
                written.append(path)
                self.bytes += path.stat().st_size
        except (OSError, common.WriteError) as error:  # a full disk: no half of a number is left behind
            for path in written:
                path.unlink(missing_ok=True)
            raise common.WriteError(str(error)) from None
        self.saved.append(written)
        return self.state() | {"saved": [str(path) for path in written]}

    def undo(self) -> dict:
        """Take back the last save: delete the files it wrote."""
        removed = self.saved.pop() if self.saved else []
        for path in removed:
            path.unlink(missing_ok=True)
        return self.state() | {"removed": [str(path) for path in removed]}


class Handler(BaseHTTPRequestHandler):
    """Answers GET / with the page, POST /predict with a reading, anything else with 404; with
    --collect also GET /collect, POST /collect?label=7 and POST /collect/undo (see Collection)."""

    reader: predict.Reader
    page: bytes
    collection: Collection | None = None
    large_picture = False
    lock = threading.Lock()  # one reading at a time: each already uses every core the model can

    def setup(self) -> None:
        super().setup()
        # The whole request must arrive within REQUEST_SECONDS: then the connection is shut, which
        # ends any read still waiting on it. One request per connection (HTTP/1.0), so one timer.
        self.deadline = threading.Timer(REQUEST_SECONDS, cut_off, [self.connection])
        self.deadline.daemon = True  # Ctrl-C need not wait for it
        self.deadline.start()

    def finish(self) -> None:
        self.deadline.cancel()
        with suppress(*CLIENT_GONE):
            super().finish()
        if self.large_picture and give_memory_back:  # the request's objects are gone by now
            give_memory_back(0)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a malformed request, headers too long, an unknown
        method) as JSON like every other answer; a method this server does not serve is a 405."""
        if code == HTTPStatus.NOT_IMPLEMENTED:
            code, message = HTTPStatus.METHOD_NOT_ALLOWED, f"method {self.command} not allowed: use GET or POST"
        self.close_connection = True
        self.send_json(code, {"error": message or HTTPStatus(code).phrase})

    def send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, answer: dict) -> None:
        self.send(status, json.dumps(answer).encode())

    def read_body(self) -> bytes | None:
        """The request's body, an image file; None if it was refused (and answered) or never came."""
        length_text = self.headers.get("Content-Length", "")
        if not re.fullmatch(r"[0-9]{1,12}", length_text):  # digits only: int() would take "1_0" or " 10"
            self.close_connection = True
            self.send_json(HTTPStatus.LENGTH_REQUIRED, {"error": "send the image with a Content-Length in digits"})
            return None
        length = int(length_text)
        if length > MAX_BODY:
            # Answer without reading the body, and close the connection rather than read what follows.
            self.close_connection = True
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           {"error": f"image too large: {length:,} bytes, at most {MAX_BODY:,}"})
            return None
        body = self.rfile.read(length) if length > 0 else b""
        self.deadline.cancel()  # all of the request is here: reading it is our time, not the client's
        if len(body) < length:
            return None  # the client went away, or ran out of time, before sending all it announced
        if not body:
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": "empty request: send an image file as the body"})
            return None
        return body

    def do_GET(self) -> None:
        if self.path in ("/", "/index.html"):
            self.send(HTTPStatus.OK, self.page, "text/html; charset=utf-8")
        elif self.path == "/collect" and self.collection:
            self.send_json(HTTPStatus.OK, self.collection.state())
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {self.path}"})

    def do_POST(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/collect/undo" and self.collection:
            with self.lock:
                self.send_json(HTTPStatus.OK, self.collection.undo())
            return
        if path not in ("/predict", "/collect") or path == "/collect" and not self.collection:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {self.path}"})
            return
        body = self.read_body()
        if body is None:
            return
        try:
            with self.lock:
                picture = images.read_image(io.BytesIO(body), MAX_PIXELS)
                self.large_picture = picture.width * picture.height > LARGE_PIXELS
                found = self.reader.prepare(picture)
                if path == "/collect":
                    label = parse_qs(query).get("label", [""])[0]
                    self.send_json(HTTPStatus.OK, self.collection.save(picture, found, label))
                    return
                probs = predict.probabilities(self.reader, found.items)
                result = predict.read(self.reader, "upload", found, probs)
        except (images.ImageError, LabelError) as error:  # not an image, a blank drawing, a bad label
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
            return
        except common.WriteError as error:  # the folder is full, or the disk
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": str(error)})
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


class Server(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS of them; a client that goes away is no error."""

    daemon_threads = True
    slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: socket.socket, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            body = json.dumps({"error": "too many connections at once: try again in a moment"}).encode()
            request.settimeout(0.2)
            try:
                request.recv(1 << 20)  # what has come already: closing on unread data would reset the connection
                request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: socket.socket, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: socket.socket, client_address) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, CLIENT_GONE + (OSError,)):  # a client that left needs no word
            print(f"draw.py: error answering {client_address[0]}: {type(error).__name__}: {error}", file=sys.stderr)


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
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this computer only)")
    parser.add_argument("--port", type=port_number, default=8000, help="port to listen on (0: any free port)")
    parser.add_argument("--collect", metavar="DIR", type=Path,
                        help="show buttons that save the drawing as an example of a class, in DIR/<class>/, "
                             "for finetune.py")
    args = parser.parse_args(argv)

    reader = predict.load_reader(Path(args.checkpoint))  # loaded once, for every request
    Handler.reader, Handler.page = reader, PAGE.read_bytes()
    if args.collect:
        files.check_folder(args.collect, "--collect")
        Handler.collection = Collection(args.collect, reader.classes)
    try:
        # A thread per connection (at most MAX_CONNECTIONS): a slow upload does not hold up the others.
        server = Server((args.host, args.port), Handler)
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
