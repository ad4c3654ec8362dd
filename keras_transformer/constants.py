"""Values the whole package agrees on, defined once. Imports nothing, so any module (the
layers included) may import it."""

# The reserved tokens every vocabulary starts with, and their ids.
RESERVED_TOKENS = ["[PAD]", "[UNK]", "[START]", "[END]"]
PAD_ID, UNK_ID, START_ID, END_ID = range(4)

# Added to the attention logits of masked keys (and the logits of forbidden tokens): in
# float32, exp() of it underflows to exactly 0.
MASK_BIAS = -1e9
