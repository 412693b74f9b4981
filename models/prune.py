"""Structured pruning of a BERT encoder into a narrower one, as the starting point for
training a faster classifier (models/train.py --width/--heads/--ffn).

Inference on this CPU costs about the same per token whatever the weights say, so
speed comes from shape: the width of the residual stream, the attention heads and the
feed-forward neurons. What is kept is chosen by how much it carries on real text:
- residual dimensions by their mean square over the embedding and every layer output
  (BERTs have a few large "outlier" dimensions the LayerNorms depend on; they stay);
- attention heads by the norm of what each writes through the output projection;
- feed-forward neurons by mean |activation| times the norm of their output weights.
The pruned weights are copied into a fresh `BertModel` of the smaller shape, so the
result exports and fuses like any BERT. Training afterwards recovers what was lost.
"""

import torch
from transformers import BertConfig, BertModel


@torch.no_grad()
def importance(bert, batches):
    """Accumulate the three importances over `batches` of (ids, mask)."""
    cfg = bert.config
    heads, head_size = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
    dims = torch.zeros(cfg.hidden_size)
    head_imp = [torch.zeros(heads) for _ in bert.encoder.layer]
    ffn_imp = [torch.zeros(cfg.intermediate_size) for _ in bert.encoder.layer]
    captured = {}
    hooks = []
    for i, layer in enumerate(bert.encoder.layer):
        hooks.append(layer.attention.output.dense.register_forward_hook(
            lambda m, inp, out, i=i: captured.__setitem__(("ctx", i), inp[0])))
        hooks.append(layer.intermediate.register_forward_hook(
            lambda m, inp, out, i=i: captured.__setitem__(("act", i), out)))
    for ids, mask in batches:
        out = bert(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        keep = mask.bool()
        for h in out.hidden_states:
            dims += h[keep].pow(2).mean(0)
        for i, layer in enumerate(bert.encoder.layer):
            ctx = captured[("ctx", i)][keep].view(-1, heads, head_size)  # tokens, heads, head_size
            w = layer.attention.output.dense.weight.view(cfg.hidden_size, heads, head_size)
            written = torch.einsum("thd,ohd->tho", ctx, w)
            head_imp[i] += written.norm(dim=-1).mean(0)
            act = captured[("act", i)][keep].abs().mean(0)
            ffn_imp[i] += act * layer.output.dense.weight.norm(dim=0)
    for h in hooks:
        h.remove()
    return dims, head_imp, ffn_imp


@torch.no_grad()
def prune(bert, batches, width, heads, ffn):
    """A new BertModel of `width` residual dimensions, `heads` heads per layer (of the
    original head size) and `ffn` feed-forward neurons, initialised from `bert`."""
    cfg = bert.config
    head_size = cfg.hidden_size // cfg.num_attention_heads
    if heads * head_size != width:
        raise SystemExit(f"--heads {heads} x head size {head_size} must equal --width {width}")
    dims, head_imp, ffn_imp = importance(bert, batches)
    keep = dims.topk(width).indices.sort().values
    small = BertConfig(**{**cfg.to_dict(), "hidden_size": width, "num_attention_heads": heads,
                          "intermediate_size": ffn, "num_hidden_layers": len(bert.encoder.layer),
                          "attn_implementation": "eager"})
    student = BertModel(small, add_pooling_layer=False).eval()

    e, s = bert.embeddings, student.embeddings
    for name in ["word_embeddings", "position_embeddings", "token_type_embeddings"]:
        getattr(s, name).weight.copy_(getattr(e, name).weight[:, keep])
    copy_norm(s.LayerNorm, e.LayerNorm, keep)

    for i, (big, little) in enumerate(zip(bert.encoder.layer, student.encoder.layer)):
        kept_heads = head_imp[i].topk(heads).indices.sort().values
        rows = torch.cat([torch.arange(h * head_size, (h + 1) * head_size) for h in kept_heads])
        for name in ["query", "key", "value"]:
            copy_linear(getattr(little.attention.self, name), getattr(big.attention.self, name), rows, keep)
        copy_linear(little.attention.output.dense, big.attention.output.dense, keep, rows)
        copy_norm(little.attention.output.LayerNorm, big.attention.output.LayerNorm, keep)
        neurons = ffn_imp[i].topk(ffn).indices.sort().values
        copy_linear(little.intermediate.dense, big.intermediate.dense, neurons, keep)
        copy_linear(little.output.dense, big.output.dense, keep, neurons)
        copy_norm(little.output.LayerNorm, big.output.LayerNorm, keep)
    return student


def copy_linear(dst, src, out_idx, in_idx):
    dst.weight.copy_(src.weight[out_idx][:, in_idx])
    dst.bias.copy_(src.bias[out_idx])


def copy_norm(dst, src, idx):
    dst.weight.copy_(src.weight[idx])
    dst.bias.copy_(src.bias[idx])
