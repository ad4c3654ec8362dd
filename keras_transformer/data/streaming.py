"""Corpora larger than memory: lines streamed by tf.data, split by a hash of the source.

Nothing here holds the corpus. `SplitRule` sends each pair to train, validation or test by a
seeded 64-bit hash of its source string, computed in the graph, so every pass over the files
(training, `evaluate`, a resumed run) derives the same splits, and several translations of one
source stay in one split. `survey` makes one batched pass that counts the training pairs and
gathers the held-out splits (small) and a seeded sample for the tokenizers (bounded);
`stream_pairs` is the training input: files interleaved, lines parsed in the graph, each
worker reading its own shard.
"""

import dataclasses
import logging

import tensorflow as tf

from keras_transformer.data.files import Fingerprint, check_unchanged, is_gzip

logger = logging.getLogger("keras_transformer")

_PARSE_BATCH = 8192
_MAX_LISTED = 5
_HASH_BUCKETS = 2**62


@dataclasses.dataclass(frozen=True)
class SplitRule:
    """Which split a pair belongs to: a seeded FarmHash64 of its source (after stripping)
    mapped to `[0, 1)`; below `validation_fraction` is validation, below the sum of the
    fractions test, the rest train.

    Example:

    >>> rule = SplitRule(validation_fraction=0.25, test_fraction=0.25, seed=1)
    >>> splits = rule.assign(tf.constant(["Go.", "Hi.", "Run!", "Go."])).numpy().tolist()
    >>> splits[0] == splits[3] and set(splits) <= {0, 1, 2}
    True
    """

    validation_fraction: float
    test_fraction: float
    seed: int = 0
    hash: str = "farmhash64-v1"

    def _uniform(self, keys, salt, parts=False):
        keys = tf.strings.join([f"{salt}{self.seed}\x00", *(keys if parts else [keys])])
        buckets = tf.strings.to_hash_bucket_fast(keys, _HASH_BUCKETS)
        return tf.cast(buckets, tf.float64) / float(_HASH_BUCKETS)

    def assign(self, sources, parts=False):
        """int32 split ids (0 train, 1 validation, 2 test) of a string tensor of sources;
        with `parts`, `sources` is a list of string tensors and strings, the parts of each
        source (joined with the seed in one pass)."""
        u = self._uniform(sources, "", parts)
        validation = u < self.validation_fraction
        test = u < self.validation_fraction + self.test_fraction
        return tf.where(validation, 1, tf.where(test, 2, 0))

    def sampled(self, sources, targets, rate):
        """True for the pairs in a seeded sample of about `rate` of them (another hash)."""
        return self._uniform(tf.strings.join([sources, "\t", targets]), "sample") < rate

    def sample_keys(self, keys, rate):
        """True for the keys (a string tensor, e.g. whole examples) in a seeded sample of
        about `rate` of them (the hash of `sampled`)."""
        return self._uniform(keys, "sample") < rate

    def to_dict(self):
        return dataclasses.asdict(self)


def parse_lines(lines):
    """`source<TAB>target` lines (extra columns ignored) to stripped `(sources, targets,
    valid, blank)`; a line without a tab or with an empty side is not valid."""
    lines = tf.strings.regex_replace(lines, "^\ufeff", "")  # a byte order mark
    fields = tf.strings.split(lines, "\t")
    padded = fields.to_tensor(default_value="", shape=[None, 2])
    sources, targets = tf.strings.strip(padded[:, 0]), tf.strings.strip(padded[:, 1])
    blank = tf.equal(tf.strings.strip(lines), "")
    valid = (fields.row_lengths() >= 2) & (sources != "") & (targets != "")
    return sources, targets, valid, blank


def _compressions(files):
    return ["GZIP" if is_gzip(f) else "" for f in files]


def _lines(files, numbered=False, shuffle_seed=None, shard=(1, 0)):
    """The lines of `files`; `numbered` adds (file index, 0-based line number) to each."""
    files = [str(f) for f in files]
    if numbered:
        dataset = tf.data.Dataset.from_tensor_slices((files, _compressions(files))).enumerate()
        return dataset.flat_map(
            lambda index, file: (
                tf.data.TextLineDataset(file[0], file[1], 1 << 20)
                .enumerate()
                .map(lambda number, line: (index, number, line))
            )
        )
    dataset = tf.data.Dataset.from_tensor_slices((files, _compressions(files)))
    if shuffle_seed is not None and len(files) > 1:
        dataset = dataset.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        lambda file, compression: tf.data.TextLineDataset(file, compression, 1 << 20),
        cycle_length=min(len(files), 4),
        block_length=16,
    )
    count, index = shard
    return dataset.shard(count, index) if count > 1 else dataset


@dataclasses.dataclass(frozen=True)
class TrainStream:
    """The training split of a streamed corpus: its files, their fingerprints, the rule and
    the number of training pairs counted by `survey`. `len()` is that count."""

    files: tuple
    fingerprints: tuple
    rule: SplitRule
    pairs: int
    lines: int

    def __len__(self):
        return self.pairs

    def check_unchanged(self, what="this run"):
        check_unchanged(self.fingerprints, what)

    def to_dict(self):
        return {
            "files": list(self.files),
            "fingerprints": [dataclasses.asdict(f) for f in self.fingerprints],
            "rule": self.rule.to_dict(),
            "pairs": self.pairs,
            "lines": self.lines,
        }

    @classmethod
    def from_dict(cls, values):
        return cls(
            files=tuple(values["files"]),
            fingerprints=tuple(Fingerprint(**f) for f in values["fingerprints"]),
            rule=SplitRule(**values["rule"]),
            pairs=int(values["pairs"]),
            lines=int(values["lines"]),
        )


def stream_pairs(stream, shuffle_seed=None, shard=(1, 0)):
    """A dataset of `(source, target)` string pairs of the training split, read from the
    files in parallel chunks, parsed and filtered in the graph (malformed lines, already
    reported by `survey`, are skipped). `shard=(count, index)` keeps this worker's lines."""
    rule = stream.rule

    def keep_train(lines):
        sources, targets, valid, _ = parse_lines(lines)
        keep = valid & tf.equal(rule.assign(sources), 0)
        return tf.boolean_mask(sources, keep), tf.boolean_mask(targets, keep)

    lines = _lines(stream.files, shuffle_seed=shuffle_seed, shard=shard)
    return lines.batch(_PARSE_BATCH).map(keep_train, num_parallel_calls=tf.data.AUTOTUNE).unbatch()


@dataclasses.dataclass
class Survey:
    """What one pass over a streamed corpus found."""

    train_pairs: int
    validation: list
    test: list
    sample: list  # (source, target) training pairs in the tokenizer sample
    malformed: int
    first_malformed: list  # "file:line: reason"


def survey(files, rule, sample_pairs=0, train_lines=None, held_out=True):
    """One batched pass: counts the training pairs and malformed lines, gathers the
    validation and test pairs (when `held_out`), and a seeded sample of about `sample_pairs`
    training pairs (`train_lines` estimates their number)."""
    rate = 0.0 if not sample_pairs else min(1.0, 1.05 * sample_pairs / max(1, train_lines or 1))

    def look(file_index, numbers, lines):
        sources, targets, valid, blank = parse_lines(lines)
        split = rule.assign(sources)
        train = valid & tf.equal(split, 0)
        sampled = train & rule.sampled(sources, targets, rate)
        held = valid & tf.not_equal(split, 0) if held_out else tf.zeros_like(valid)
        bad = ~valid & ~blank
        no_tab = tf.strings.regex_full_match(lines, "[^\t]*")
        return {
            "train": tf.reduce_sum(tf.cast(train, tf.int64)),
            "held": (tf.boolean_mask(sources, held), tf.boolean_mask(targets, held),
                     tf.boolean_mask(split, held)),
            "sample": (tf.boolean_mask(sources, sampled), tf.boolean_mask(targets, sampled)),
            "bad": (tf.boolean_mask(file_index, bad), tf.boolean_mask(numbers, bad),
                    tf.boolean_mask(no_tab, bad)),
        }  # fmt: skip

    dataset = _lines(files, numbered=True).batch(_PARSE_BATCH)
    dataset = dataset.map(look, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)
    result = Survey(0, [], [], [], 0, [])
    for batch in dataset.as_numpy_iterator():
        result.train_pairs += int(batch["train"])
        sources, targets, split = batch["held"]
        for source, target, where in zip(sources, targets, split, strict=True):
            pair = (source.decode("utf-8"), target.decode("utf-8"))
            (result.validation if where == 1 else result.test).append(pair)
        result.sample.extend(
            (s.decode("utf-8"), t.decode("utf-8")) for s, t in zip(*batch["sample"], strict=True)
        )
        indices, numbers, no_tab = batch["bad"]
        result.malformed += len(indices)
        for index, number, tabless in zip(indices, numbers, no_tab, strict=True):
            if len(result.first_malformed) < _MAX_LISTED:
                reason = "no tab separating source and target" if tabless else "an empty side"
                result.first_malformed.append(f"{files[index]}:{number + 1}: {reason}")
    return result


def report_malformed(result, skip_malformed):
    """Raises for malformed lines unless they are skipped (then logs a warning)."""
    if not result.malformed:
        return
    listed = "\n  ".join(result.first_malformed)
    if not skip_malformed:
        more = result.malformed - len(result.first_malformed)
        raise ValueError(
            f"{result.malformed} malformed line(s); expected 'source<TAB>target' with both "
            f"sides non-empty:\n  {listed}"
            + (f"\n  ... and {more} more" if more > 0 else "")
            + "\nFix these lines, or skip them with --skip-malformed."
        )
    logger.warning("Skipped %d malformed line(s), first %s", result.malformed,
                   result.first_malformed[0])  # fmt: skip
