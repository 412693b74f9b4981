"""A model's word-embedding table in 4 bits: its Gather replaced by onnxruntime's
GatherBlockQuantized (com.microsoft), each row quantised symmetrically in blocks of
`block` columns with a float scale per block.

The table is most of a full-width model's file (30,522 x 384: 11.7 MB in int8, 7.3 MB
in 4 bits with block 32) and is read a row per token, never multiplied, so 4 bits cost
little time. train.py applies it to the confirmer with --embedding-bits 4, after
dynamic int8 quantisation of the rest (which is told to leave this Gather alone).
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper

MS_DOMAIN = "com.microsoft"


def word_embedding_gather(graph):
    """The Gather that reads the word-embedding table: the one whose data is an
    initializer with more rows than any position or type table (10,000+)."""
    tables = {i.name: i for i in graph.initializer if len(i.dims) == 2 and i.dims[0] > 10000}
    hits = [n for n in graph.node if n.op_type == "Gather" and n.input[0] in tables]
    if len(hits) != 1:
        raise SystemExit(f"expected one word-embedding Gather, found {len(hits)} (is the embedding layer fused?)")
    return hits[0], tables[hits[0].input[0]]


def quantise_rows(table, block):
    """4-bit codes packed two a byte (low nibble first, zero point 8, as
    GatherBlockQuantized reads uint8 data without zero points) and a scale per block."""
    rows, cols = table.shape
    if cols % block or cols % 2:
        raise SystemExit(f"table width {cols} is not a multiple of block {block}")
    blocks = table.reshape(rows, cols // block, block)
    scale = np.abs(blocks).max(-1) / 7.0
    scale[scale == 0] = 1.0
    codes = (np.clip(np.round(blocks / scale[..., None]), -8, 7) + 8).astype(np.uint8).reshape(rows, cols)
    packed = codes[:, 0::2] | (codes[:, 1::2] << 4)
    return packed, scale.astype(np.float32)


def shrink(path, out, block=32):
    """Rewrite the model at `path` with its word embeddings in 4 bits, to `out`."""
    model = onnx.load(str(path))
    graph = model.graph
    node, table = word_embedding_gather(graph)
    packed, scale = quantise_rows(numpy_helper.to_array(table), block)
    data = numpy_helper.from_array(packed, table.name + "_q4")
    scales = numpy_helper.from_array(scale, table.name + "_q4_scales")
    gather = helper.make_node("GatherBlockQuantized", [data.name, node.input[1], scales.name], list(node.output),
                              name=node.name + "_q4", domain=MS_DOMAIN, gather_axis=0, quantize_axis=1,
                              block_size=block, bits=4)
    at = list(graph.node).index(node)
    graph.node.remove(node)
    graph.node.insert(at, gather)
    if not any(table.name in n.input for n in graph.node):
        graph.initializer.remove(table)
    graph.initializer.extend([data, scales])
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    onnx.save(model, str(out))
