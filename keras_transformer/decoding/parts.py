"""The pieces of a trained `build_transformer` model that incremental decoding calls: encode
the source once, then run the decoder one step at a time against key/value caches."""

import tensorflow as tf

from keras_transformer.layers import DecoderBlock, EncoderBlock

PAD_ID = 0


class Seq2SeqParts:
    """Finds the layers of a model built by `build_transformer` and calls them for decoding.

    Caches are tuples with one tensor per decoder block: self-attention
    `(batch, 2, max_length, heads, head_dim)` and cross-attention
    `(batch, 2, source_length, heads, head_dim)`. (Separate tensors rather than one stacked
    tensor: stacking and slicing would copy every cache at every step.)
    """

    def __init__(self, model):
        self.model = model
        names = {layer.name: layer for layer in model.layers}
        if "embedding" in names:
            self.source_embedding = self.target_embedding = names["embedding"]
        else:
            self.source_embedding = names["source_embedding"]
            self.target_embedding = names["target_embedding"]
        self.encoder_blocks = [l for l in model.layers if isinstance(l, EncoderBlock)]  # noqa: E741
        self.decoder_blocks = [l for l in model.layers if isinstance(l, DecoderBlock)]  # noqa: E741
        self.encoder_norm = names.get("encoder_norm")
        self.decoder_norm = names.get("decoder_norm")
        self.output_projection = names.get("output_projection")
        if not self.encoder_blocks or not self.decoder_blocks:
            raise ValueError(
                f"Model {model.name!r} has no encoder/decoder blocks; decoding needs a model "
                "made by keras_transformer.build_transformer."
            )
        self.sequence_length = self.target_embedding.sequence_length

    def encode(self, source_ids):
        """`(batch, source_length)` ids -> encoder outputs and the source padding mask."""
        source_mask = tf.not_equal(source_ids, PAD_ID)
        x = self.source_embedding(source_ids, training=False)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=source_mask, training=False)
        if self.encoder_norm is not None:
            x = self.encoder_norm(x)
        return x, source_mask

    def cross_caches(self, encoder_outputs):
        return tuple(b.compute_cross_attention_cache(encoder_outputs) for b in self.decoder_blocks)

    def empty_self_caches(self, batch_size, max_length):
        return tuple(
            b.initial_self_attention_cache(batch_size, max_length) for b in self.decoder_blocks
        )

    def project(self, y):
        """Decoder states -> float32 logits."""
        if self.output_projection is None:
            logits = self.target_embedding(y, reverse=True)
        else:
            logits = self.output_projection(y)
        return tf.cast(logits, tf.float32)

    def step(self, tokens, index, self_caches, cross_caches, source_mask, scores=False):
        """Runs `tokens` `(batch, new)` at positions `index ...` through the decoder.

        Returns logits `(batch, new, vocabulary)`, the updated self-attention caches and,
        with `scores=True`, the cross-attention weights of each block.
        """
        y = self.target_embedding(tokens, start_index=index, training=False)
        new_caches, cross_scores = [], []
        for i, block in enumerate(self.decoder_blocks):
            result = block(
                y,
                encoder_padding_mask=source_mask,
                cross_attention_cache=cross_caches[i],
                self_attention_cache=self_caches[i],
                self_attention_cache_update_index=index,
                return_attention_scores=scores,
                training=False,
            )
            if scores:
                y, block_scores, cache = result
                cross_scores.append(block_scores["cross_attention"])
            else:
                y, cache = result
            new_caches.append(cache)
        if self.decoder_norm is not None:
            y = self.decoder_norm(y)
        logits = self.project(y)
        if scores:
            return logits, tuple(new_caches), cross_scores
        return logits, tuple(new_caches)

    def full_logits(self, source_ids, target_ids):
        """The uncached path: the whole model on the whole target prefix."""
        return self.model(
            {"encoder_inputs": source_ids, "decoder_inputs": target_ids}, training=False
        )


class UncachedParts:
    """The test oracle and benchmark baseline: the same interface as `Seq2SeqParts`, but each
    step re-runs the whole model (encoder included) on the whole target prefix. The "caches"
    only hold the source ids and the prefix of target ids, so the search code is shared."""

    def __init__(self, model):
        self.model = model
        self.sequence_length = Seq2SeqParts(model).sequence_length

    def encode(self, source_ids):
        return source_ids, tf.not_equal(source_ids, PAD_ID)

    def cross_caches(self, source_ids):
        return (source_ids,)

    def empty_self_caches(self, batch_size, max_length):
        return (tf.zeros([batch_size, max_length + 1], tf.int32),)

    def step(self, tokens, index, self_caches, cross_caches, source_mask):
        prefix = self_caches[0]
        prefix += tf.one_hot(index, tf.shape(prefix)[1], dtype=tf.int32) * tokens
        logits = self.model(
            {"encoder_inputs": cross_caches[0], "decoder_inputs": prefix[:, : index + 1]},
            training=False,
        )
        return tf.cast(logits[:, -1:], tf.float32), (prefix,)
