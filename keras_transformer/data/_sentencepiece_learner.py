"""Learns a SentencePiece model in a process of its own (run by path, so it imports only
`sentencepiece`): the trainer's memory, about 1.5 GB for a million sentences, goes back to the
system when it ends instead of staying in the training process for the whole run.

    python _sentencepiece_learner.py OPTIONS_JSON TEXT_FILE MODEL_FILE
"""

import json
import resource
import sys


def main(options, text_file, model_file):
    import sentencepiece

    with open(model_file, "wb") as model:
        sentencepiece.SentencePieceTrainer.train(input=text_file, model_writer=model, **options)
    # VmHWM: this program's own peak (ru_maxrss would include the parent's, from before exec).
    with open("/proc/self/status") as status:
        found = [line.split()[1] for line in status if line.startswith("VmHWM:")]
    peak = (
        int(found[0]) * 1024 if found else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    print(json.dumps({"peak_rss_bytes": peak}))


if __name__ == "__main__":
    try:
        main(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3])
    except RuntimeError as error:
        print(error, file=sys.stderr)
        sys.exit(3)
