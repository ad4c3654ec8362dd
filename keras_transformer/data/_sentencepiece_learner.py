"""Learns a SentencePiece model in a process of its own (run by path, so it imports only
`sentencepiece`): the trainer's memory, about 1.5 GB for a million sentences, goes back to the
system when it ends instead of staying in the training process for the whole run.

    python _sentencepiece_learner.py PARENT_PID < TEXTS > MODEL

No file is written: the texts come on stdin and the model goes to stdout, so a killed training
leaves no copy of the user's text behind, and the learner dies with its parent (Linux).

stdin: the texts in UTF-8, one per line, each ended by "\\n" (only "\\n" separates them; a text
is never empty), then an empty line, then the trainer's options as one line of JSON (they
depend on the characters of the texts, known only once all are sent).

stdout: one line of JSON, `{"model_bytes": N, "peak_rss_bytes": P}`, then the N bytes of the
serialized model. Errors go to stderr, with a nonzero exit status.
"""

import io
import json
import os
import resource
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent):
    """Asks Linux to SIGKILL this process when its parent dies (silently nothing elsewhere),
    and exits if the parent `parent` is already gone (it may die before the request)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (AttributeError, OSError):
        pass
    if os.getppid() != parent:
        sys.exit(4)


def read_input(stream):
    """`(holder, options)` read from the binary `stream`: `holder` is a one-element list of
    `(data, end)`, the texts being `data[:end]`, which `sentences` takes out so that they are
    freed once the trainer has read them all."""
    data = stream.read()
    end = data.rfind(b"\n\n") + 1
    if not end or not data.endswith(b"\n"):
        raise ValueError("the input ended early (no options after the texts)")
    return [(data, end)], json.loads(data[end + 1 :])


def sentences(holder):
    """The texts of `holder` as str: UTF-8 (strict) lines, which only "\\n" ends."""
    data, end = holder.pop()
    start = 0
    while start < end:
        stop = data.index(b"\n", start)
        yield data[start:stop].decode("utf-8")
        start = stop + 1


def peak_memory():
    # VmHWM: this program's own peak (ru_maxrss would include the parent's, from before exec).
    with open("/proc/self/status") as status:
        found = [line.split()[1] for line in status if line.startswith("VmHWM:")]
    return (
        int(found[0]) * 1024 if found else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )


def main(parent):
    die_with_parent(parent)
    # stdout carries the model only: anything else the trainer might print goes to stderr.
    output = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    holder, options = read_input(sys.stdin.buffer)
    # The parent's pipe is read to its end: stdin becomes /dev/null (what the tests look for).
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, sys.stdin.fileno())
    os.close(null)

    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=sentences(holder), model_writer=model, **options
    )
    model = model.getvalue()
    header = {"model_bytes": len(model), "peak_rss_bytes": peak_memory()}
    output.write(json.dumps(header).encode("ascii") + b"\n" + model)
    output.close()


if __name__ == "__main__":
    try:
        main(int(sys.argv[1]))
    except (RuntimeError, ValueError) as error:
        print(error, file=sys.stderr)
        sys.exit(3)
