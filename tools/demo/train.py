#!/usr/bin/python3
"""Step 2 of the demo model's build (tools/demo/build.sh): train a tiny Llama on the corpus that
tools/demo/make-corpus.ts wrote, and save it in Hugging Face layout.

The model is written in plain torch with exactly the semantics of transformers'
LlamaForCausalLM (RMSNorm with the weight applied after normalising in float32, rotate_half RoPE
over the head dimension, SwiGLU MLP, no biases, untied lm_head), with the same parameter names,
so the saved files are an ordinary HF llama checkpoint. Safetensors is written by hand (the
format is an 8-byte little-endian header length, a JSON header, then raw little-endian tensors)
because the `safetensors` package is not available from Debian.

Development-time tool only: users never need torch. Reproducible from --seed (bit for bit with
the same torch build, BLAS library and thread count).
"""
import argparse
import json
import math
import os
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# --- the model (HF LlamaForCausalLM semantics) ----------------------------------------------

class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_cos_sin(head_dim, n_pos, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = torch.outer(torch.arange(n_pos, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)  # [n_pos, head_dim]
    return emb.cos(), emb.sin()


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads = cfg["num_attention_heads"]
        self.n_kv = cfg["num_key_value_heads"]
        self.head_dim = cfg["hidden_size"] // self.n_heads
        d = cfg["hidden_size"]
        self.q_proj = nn.Linear(d, self.n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d, self.n_kv * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, self.n_kv * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.n_kv != self.n_heads:
            rep = self.n_heads // self.n_kv
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # [b, heads, t, t]
        att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        head_dim = cfg["hidden_size"] // cfg["num_attention_heads"]
        cos, sin = rope_cos_sin(head_dim, cfg["max_position_embeddings"], cfg["rope_theta"])
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def forward(self, ids):  # ids [b, t] -> logits [b, t, vocab]
        t = ids.shape[1]
        x = self.model.embed_tokens(ids)
        cos, sin = self.rope_cos[:t], self.rope_sin[:t]
        mask = torch.ones(t, t, dtype=torch.bool, device=ids.device).triu(1)
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.model.norm(x))


def init_weights(model, cfg):
    std = cfg["initializer_range"]
    n_layers = cfg["num_hidden_layers"]
    for name, p in model.named_parameters():
        if name.endswith("layernorm.weight") or name == "model.norm.weight":
            nn.init.ones_(p)
        elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
            # Residual-branch outputs scaled down so the stream's variance does not grow with depth.
            nn.init.normal_(p, mean=0.0, std=std / math.sqrt(2 * n_layers))
        else:
            nn.init.normal_(p, mean=0.0, std=std)


# --- data ------------------------------------------------------------------------------------

def load_u16(path):
    with open(path, "rb") as f:
        data = f.read()
    return torch.frombuffer(bytearray(data), dtype=torch.int16).to(torch.int64) & 0xFFFF


def batch_at_doc_starts(data, starts, batch, ctx, gen):
    # Every row begins at a document's BOS, as every prompt does at inference.
    idx = starts[torch.randint(len(starts), (batch,), generator=gen)]
    rows = torch.stack([data[i : i + ctx + 1] for i in idx.tolist()])
    return rows[:, :-1], rows[:, 1:]


def pack_documents(data, bos, ctx):
    """Whole documents (BOS ... EOS) packed into rows of ctx + 1 tokens, padded with -100, so
    that every document is scored from its own beginning as a prompt would be."""
    starts = (data == bos).nonzero().flatten().tolist() + [len(data)]
    docs = [data[a:b] for a, b in zip(starts[:-1], starts[1:])]
    rows, row = [], []
    for d in docs:
        d = d[: ctx + 1]
        if sum(len(x) for x in row) + len(d) > ctx + 1:
            rows.append(row)
            row = []
        row.append(d)
    if row:
        rows.append(row)
    out = torch.full((len(rows), ctx + 1), -100, dtype=torch.int64)
    for i, r in enumerate(rows):
        flat = torch.cat(r)
        out[i, : len(flat)] = flat
    return out


@torch.no_grad()
def mean_loss(model, rows, bos, max_rows=None):
    """Mean next-token cross-entropy (nats per token) over packed held-out documents."""
    model.eval()
    if max_rows is not None:
        rows = rows[:max_rows]
    total, count = 0.0, 0
    for i in range(0, len(rows), 16):
        r = rows[i : i + 16]
        x = r[:, :-1].clamp(min=0)  # padding positions only ever predict ignored targets
        y = r[:, 1:].clone()
        y[y == bos] = -100  # the next document's BOS is given, not predicted
        logits = model(x)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                 ignore_index=-100, reduction="sum").item()
        count += int((y != -100).sum())
    model.train()
    return total / count


@torch.no_grad()
def greedy(model, ids, max_new, eos_id):
    model.eval()
    ids = list(ids)
    out = []
    for _ in range(max_new):
        logits = model(torch.tensor([ids[-model.cfg["max_position_embeddings"]:]]))
        nxt = int(logits[0, -1].argmax())
        if nxt == eos_id:
            break
        ids.append(nxt)
        out.append(nxt)
    model.train()
    return out


def byte_level_decoder(id_to_token):
    # Inverse of GPT-2's byte -> printable character table.
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    char_to_byte, extra = {}, 0
    for b in range(256):
        if b in keep:
            char_to_byte[chr(b)] = b
        else:
            char_to_byte[chr(256 + extra)] = b
            extra += 1

    def decode(ids):
        return bytes(char_to_byte[c] for i in ids for c in id_to_token[i]).decode("utf-8", errors="replace")

    return decode


# --- saving ----------------------------------------------------------------------------------

def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        t = t.detach().to(torch.float32).contiguous()
        blob = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    header["__metadata__"] = {"format": "pt"}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # the data section starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for blob in blobs:
            f.write(blob)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus-dir", default=".cache/demo-corpus")
    ap.add_argument("--model-dir", default="assets/demo-model")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=384)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--eval-every", type=int, default=100)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    meta = json.load(open(os.path.join(args.corpus_dir, "corpus.json")))
    train = load_u16(os.path.join(args.corpus_dir, "train.bin"))
    heldout = load_u16(os.path.join(args.corpus_dir, "heldout.bin"))
    bos, eos = meta["bos_token_id"], meta["eos_token_id"]
    starts = (train[: len(train) - args.ctx - 1] == bos).nonzero().flatten()
    heldout_rows = pack_documents(heldout, bos, args.ctx)

    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": meta["vocab_size"],
        "hidden_size": args.hidden,
        "intermediate_size": args.intermediate,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "num_key_value_heads": args.kv_heads,
        "head_dim": args.hidden // args.heads,
        "hidden_act": "silu",
        "max_position_embeddings": args.ctx,
        "initializer_range": 0.02,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "pretraining_tp": 1,
        "tie_word_embeddings": False,
        "use_cache": True,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "pad_token_id": meta["pad_token_id"],
        "torch_dtype": "float32",
        "transformers_version": "4.46.0",
    }
    model = LlamaForCausalLM(cfg)
    init_weights(model, cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params}, train tokens {len(train)}, held-out tokens {len(heldout)}, vocab {cfg['vocab_size']}")

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.95), eps=1e-8,
    )

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * progress))

    gen = torch.Generator().manual_seed(args.seed)
    curve, evals, window = [], [], []
    t0 = time.time()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        x, y = batch_at_doc_starts(train, starts, args.batch, args.ctx, gen)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        window.append(loss.item())
        if (step + 1) % args.log_every == 0:
            curve.append({"step": step + 1, "train_loss": round(sum(window) / len(window), 4)})
            window = []
            elapsed = time.time() - t0
            print(f"step {step + 1}/{args.steps} loss {curve[-1]['train_loss']:.4f} lr {lr_at(step):.2e} "
                  f"{elapsed:.0f}s ({(step + 1) * args.batch * args.ctx / elapsed:.0f} tok/s)", flush=True)
        if (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
            h = mean_loss(model, heldout_rows, bos, max_rows=64)
            evals.append({"step": step + 1, "heldout_loss": round(h, 4)})
            print(f"  held-out loss (subset) {h:.4f}", flush=True)
    train_seconds = time.time() - t0

    heldout_loss = mean_loss(model, heldout_rows, bos)
    evals.append({"step": args.steps, "heldout_loss": round(heldout_loss, 4)})
    print(f"held-out loss {heldout_loss:.4f} nats/token (ln vocab = {math.log(cfg['vocab_size']):.4f})")

    decode = byte_level_decoder(meta["id_to_token"])
    samples = []
    for s in meta["samples"]:
        out = greedy(model, s["ids"], 60, eos)
        samples.append({"prompt": s["prompt"], "greedy_completion": decode(out)})
        print(f"--- {s['prompt']!r}\n>>> {samples[-1]['greedy_completion']!r}")

    os.makedirs(args.model_dir, exist_ok=True)
    tensors = {name: p for name, p in model.state_dict().items()}
    save_safetensors(os.path.join(args.model_dir, "model.safetensors"), tensors)
    with open(os.path.join(args.model_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.model_dir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": bos, "eos_token_id": eos, "pad_token_id": meta["pad_token_id"],
                   "do_sample": False, "max_new_tokens": 64, "transformers_version": cfg["transformers_version"]},
                  f, indent=2)
        f.write("\n")
    record = {
        "seed": args.seed,
        "corpus": {k: meta[k] for k in ("seed", "heldout_seed", "docs", "heldout_docs", "train_tokens", "heldout_tokens")},
        "hyperparameters": {k: v for k, v in vars(args).items() if k not in ("corpus_dir", "model_dir")},
        "parameters": n_params,
        "vocab_size": cfg["vocab_size"],
        "ln_vocab_size": round(math.log(cfg["vocab_size"]), 4),
        "tokens_seen": args.steps * args.batch * args.ctx,
        "heldout_loss": round(heldout_loss, 4),
        "heldout_evals": evals,
        "train_loss_curve": curve,
        "train_wall_seconds": round(train_seconds, 1),
        "torch_version": torch.__version__,
        "threads": args.threads,
        "greedy_samples": samples,
    }
    with open(os.path.join(args.model_dir, "training.json"), "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    print(f"saved {args.model_dir} ({n_params} parameters, {train_seconds:.0f} s of training)")


if __name__ == "__main__":
    main()
