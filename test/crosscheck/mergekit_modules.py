#!/usr/bin/env python3
"""
An independent re-implementation, in numpy float32, of mergekit's plan for `modules:` (mergekit
plan.py: normalize_config, plan_module, plan_slice, plan_tensor; config.py: ConfigReader,
evaluate_setting; merge_methods: linear, slerp, ties), used to cross-check hubmerge's output.

Usage: mergekit_modules.py CASE.json
CASE.json: {"config": <the merge config>, "root": <the folder model refs are relative to>,
"out": <hubmerge's output>, "quirks": [mergekit behaviours to replace with hubmerge's choice]}
Prints a JSON report: every output tensor compared (max ulp distance, differing tensors), names
only one side has, and config.json's layer counts and vocabulary size against mergekit's.

The module tables are mergekit's architecture JSON (gemma3vl.json, qwen2_vl.json) reduced to the
names; a template the tiny test models lack is skipped (mergekit would require it).
"""
import glob
import json
import os
import struct
import sys

import numpy as np

# module: (weight_prefix, pre, layer templates ({i} = layer), post, layer count key, override)
GEMMA3 = {
    "text_decoder": (
        "language_model.",
        ["model.embed_tokens.weight"],
        [
            "model.layers.{i}." + w
            for w in [
                "input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.q_norm.weight",
                "self_attn.k_proj.weight", "self_attn.k_norm.weight", "self_attn.v_proj.weight",
                "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                "pre_feedforward_layernorm.weight", "mlp.up_proj.weight", "mlp.gate_proj.weight",
                "mlp.down_proj.weight", "post_feedforward_layernorm.weight",
            ]
        ],
        ["model.norm.weight", "lm_head.weight"],
        "text_config.num_hidden_layers",
        None,
    ),
    "multi_modal_projector": (
        "multi_modal_projector.",
        ["mm_input_projection_weight", "mm_soft_emb_norm.weight"],
        [],
        [],
        None,
        0,
    ),
    "vision_tower": (
        "vision_tower.vision_model.",
        [
            "embeddings.patch_embedding.bias", "embeddings.patch_embedding.weight",
            "embeddings.position_embedding.weight",
        ],
        [
            "encoder.layers.{i}." + w
            for w in [
                "layer_norm1.bias", "layer_norm1.weight", "layer_norm2.bias", "layer_norm2.weight",
                "mlp.fc1.bias", "mlp.fc1.weight", "mlp.fc2.bias", "mlp.fc2.weight",
                "self_attn.k_proj.bias", "self_attn.k_proj.weight", "self_attn.out_proj.bias",
                "self_attn.out_proj.weight", "self_attn.q_proj.bias", "self_attn.q_proj.weight",
                "self_attn.v_proj.bias", "self_attn.v_proj.weight",
            ]
        ],
        ["post_layernorm.bias", "post_layernorm.weight"],
        "vision_config.num_hidden_layers",
        None,
    ),
}

QWEN2VL = {
    "text_decoder": (
        None,
        ["model.embed_tokens.weight"],
        [
            "model.layers.{i}." + w
            for w in [
                "input_layernorm.weight", "mlp.down_proj.weight", "mlp.gate_proj.weight",
                "mlp.up_proj.weight", "post_attention_layernorm.weight", "self_attn.k_proj.bias",
                "self_attn.k_proj.weight", "self_attn.o_proj.weight", "self_attn.q_proj.bias",
                "self_attn.q_proj.weight", "self_attn.v_proj.bias", "self_attn.v_proj.weight",
            ]
        ],
        ["model.norm.weight", "lm_head.weight"],
        "num_hidden_layers",
        None,
    ),
    # mergekit: two "layers" whose templates carry no index, so each merger weight is planned
    # twice (t = 0, then t = 1). Identical unless a gradient is set on the projector.
    "multi_modal_projector": (
        None,
        ["visual.merger.ln_q.weight", "visual.merger.ln_q.bias"],
        [
            "visual.merger.mlp.0.weight", "visual.merger.mlp.0.bias",
            "visual.merger.mlp.2.weight", "visual.merger.mlp.2.bias",
        ],
        [],
        None,
        2,
    ),
    "vision_tower": (
        None,
        ["visual.patch_embed.proj.weight"],
        [
            "visual.blocks.{i}." + w
            for w in [
                "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "attn.qkv.weight",
                "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias", "mlp.fc1.weight",
                "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
            ]
        ],
        [],
        "vision_config.depth",
        None,
    ),
}

ARCHS = {"Gemma3ForConditionalGeneration": GEMMA3, "Qwen2VLForConditionalGeneration": QWEN2VL}


# ---- safetensors, f32 only ----
def read_safetensors(folder):
    tensors = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        with open(path, "rb") as f:
            data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + n])
        body = data[8 + n :]
        for name, info in header.items():
            if name == "__metadata__":
                continue
            assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
            a, b = info["data_offsets"]
            tensors[name] = np.frombuffer(body[a:b], dtype="<f4").reshape(info["shape"])
    return tensors


def config_value(cfg, key):
    for part in key.split("."):
        cfg = cfg[part]
    return cfg


# ---- mergekit config.py ----
def is_number(e):
    return isinstance(e, (int, float)) and not isinstance(e, bool)


def evaluate_setting(tensor_name, setting, t=0.0):
    if isinstance(setting, (float, int, bool, str)):
        return setting
    if isinstance(setting, list):
        if all(isinstance(e, (int, float)) for e in setting):
            scaled = t * (len(setting) - 1)
            i0 = int(scaled)
            i1 = min(len(setting) - 1, i0 + 1)
            frac = scaled - i0
            return (1 - frac) * setting[i0] + frac * setting[i1]
        for cond in setting:
            f = cond.get("filter")
            if f is None or f == "*" or (tensor_name and f in tensor_name):
                return evaluate_setting(tensor_name, cond["value"], t)
        return None
    if isinstance(setting, dict):  # a single {filter, value}
        return evaluate_setting(tensor_name, [setting], t)
    raise RuntimeError(f"unexpected setting {setting!r}")


class Reader:
    def __init__(self, config, t, tensor_name=None, slice_out=None, module=None):
        self.config, self.t, self.tensor_name = config, t, tensor_name
        self.slice_out, self.module = slice_out, module

    def _with(self, **kw):
        d = dict(t=self.t, tensor_name=self.tensor_name, slice_out=self.slice_out, module=self.module)
        d.update(kw)
        return Reader(self.config, **d)

    def for_tensor(self, name):
        return self._with(tensor_name=name)

    def for_out_slice(self, s):
        return self._with(slice_out=s)

    def with_t(self, t):
        return self._with(t=t)

    def parameter(self, name, model=None, default=None, required=False):
        levels = []
        if self.slice_out is not None:
            if model is not None:
                levels += [s.get("parameters") for s in self.slice_out["sources"] if s["model"] == model]
            levels.append(self.slice_out.get("parameters"))
        if self.module is not None:
            levels.append(self.module.get("parameters"))
        levels.append(self.config.get("parameters"))
        for params in levels:
            if params and name in params:
                value = evaluate_setting(self.tensor_name, params[name], self.t)
                if value is not None:
                    return value
        if required:
            raise RuntimeError(f"missing required parameter {name} for {model} {self.tensor_name}")
        return default


# ---- mergekit merge_methods ----
F32 = np.float32


def linear(tensors, tparams, _g, _base):
    stack = np.stack(tensors, axis=0)
    w = np.array([p["weight"] for p in tparams], dtype=F32).reshape((-1,) + (1,) * (stack.ndim - 1))
    res = (w * stack).sum(axis=0)
    return res / w.sum(axis=0) if _g["normalize"] else res


def _normalize(v, eps):
    n = np.linalg.norm(v)
    return v / n if n > eps else v


def slerp_math(t, v0, v1, dot_threshold=0.9995, eps=1e-8):
    c0, c1 = np.copy(v0), np.copy(v1)
    v0, v1 = _normalize(v0, eps), _normalize(v1, eps)
    dot = np.sum(v0 * v1)
    if np.abs(dot) > dot_threshold:
        return (1 - t) * c0 + t * c1, "lerp"
    theta_0 = np.arccos(dot)
    sin_theta_0 = np.sin(theta_0)
    theta_t = theta_0 * t
    s0 = np.sin(theta_0 - theta_t) / sin_theta_0
    s1 = np.sin(theta_t) / sin_theta_0
    return s0 * c0 + s1 * c1, "slerp"


def slerp(tensors, _tparams, g, base_index):
    if len(tensors) == 1:
        return tensors[0]
    assert len(tensors) == 2 and base_index is not None, "slerp takes the base and one model"
    a, b = tensors[base_index], tensors[1 - base_index]
    res, path = slerp_math(g["t"], a, b)
    SLERP_PATHS[path] += 1
    return res.astype(F32)


def magnitude(delta, density):
    if density >= 1:
        return delta
    k = int(density * delta.size)
    assert k > 0
    order = np.argsort(-np.abs(delta).reshape(-1), kind="stable")[:k]
    mask = np.zeros(delta.size, dtype=F32)
    mask[order] = 1
    return delta * mask.reshape(delta.shape)


def ties(tensors, tparams, g, base_index):
    base = tensors[base_index]
    tvs = [(t - base, p) for i, (t, p) in enumerate(zip(tensors, tparams)) if i != base_index]
    if not tvs:
        return base
    deltas = np.stack([magnitude(d, p["density"]) for d, p in tvs], axis=0)
    w = np.array([p["weight"] for _, p in tvs], dtype=F32).reshape((-1,) + (1,) * (deltas.ndim - 1))
    weighted = deltas * w
    sign = np.sign(weighted).astype(F32)
    majority = (weighted.sum(axis=0) >= 0).astype(F32) * 2 - 1
    mask = (sign == majority).astype(F32)
    mixed = (weighted * mask).sum(axis=0)
    divisor = (w * mask).sum(axis=0)
    divisor[divisor == 0] = 1
    if g["normalize"]:
        mixed = mixed / divisor
    if g["lambda"] != 1:
        mixed = mixed * F32(g["lambda"])
    return (base + mixed).astype(F32)


# (global parameters with defaults, per-model parameters with defaults; None = required)
METHODS = {
    "linear": (linear, {"normalize": True}, {"weight": None}),
    "slerp": (slerp, {"t": None}, {}),
    "ties": (ties, {"int8_mask": False, "normalize": True, "rescale": False, "lambda": 1.0},
             {"weight": None, "density": 1.0}),
}
SLERP_PATHS = {"lerp": 0, "slerp": 0}


# ---- mergekit plan.py ----
class Planner:
    def __init__(self, config, root, quirks=()):
        self.config, self.root, self.quirks = config, root, set(quirks)
        self.models = {}
        self.method = METHODS[config["merge_method"]]
        self.base = config.get("base_model")
        self.out = {}
        self.duplicates = []

    def tensors(self, model):
        if model not in self.models:
            folder = os.path.join(self.root, model)
            with open(os.path.join(folder, "config.json")) as f:
                cfg = json.load(f)
            self.models[model] = (read_safetensors(folder), cfg)
        return self.models[model]

    def arch(self):
        cfg = self.tensors(self.base or self.first_model())[1]
        return ARCHS[cfg["architectures"][0]]

    def first_model(self):
        if "models" in self.config:
            return self.config["models"][0]["model"]
        m = next(iter(self.config["modules"].values()))
        return m["models"][0]["model"] if "models" in m else m["slices"][0]["sources"][0]["model"]

    @staticmethod
    def num_layers(module, cfg):
        _, _, _, _, key, override = module
        return override if override is not None else config_value(cfg, key)

    @staticmethod
    def weights(module, kind, index=None):
        prefix, pre, layer, post, _, _ = module
        names = {"pre": pre, "post": post, "layer": [n.replace("{i}", str(index)) for n in layer]}[kind]
        return [(prefix or "") + n for n in names]

    def normalize(self, module, mdef):
        if "slices" in mdef:
            return mdef["slices"]
        sources, has_base = [], False
        for m in mdef["models"]:
            has_base |= m["model"] == self.base
            n = self.num_layers(module, self.tensors(m["model"])[1])
            sources.append({"model": m["model"], "layer_range": [0, n], "parameters": m.get("parameters")})
        if self.base and not has_base:
            n = self.num_layers(module, self.tensors(self.base)[1])
            sources.append({"model": self.base, "layer_range": [0, n]})
        return [{"sources": sources}]

    def plan(self):
        arch = self.arch()
        if "models" in self.config:  # normalize_config: top-level models -> every module's models
            self.config = dict(self.config)
            models = self.config.pop("models")
            self.config["modules"] = {name: {"models": models} for name in arch}
        for name, mdef in self.config["modules"].items():
            self.plan_module(arch[name], mdef)
        return self.out

    def plan_module(self, module, mdef):
        slices = self.normalize(module, mdef)
        reader = Reader(self.config, 0, module=mdef)
        first = [s["model"] for s in slices[0]["sources"]]
        for w in self.weights(module, "pre"):
            self.plan_tensor(w, [w] * len(first), first, reader.for_tensor(w).for_out_slice(slices[0]))
        current = 0
        for s in slices:
            lengths = {src["layer_range"][1] - src["layer_range"][0] for src in s["sources"]}
            assert len(lengths) == 1, "a slice's sources differ in length"
            (n,) = lengths
            slice_reader = Reader(self.config, 0, slice_out=s, module=mdef)
            for idx in range(n):
                t = idx / (n - 1) if n > 1 else 1
                out_w = self.weights(module, "layer", current)
                in_w = [self.weights(module, "layer", src["layer_range"][0] + idx) for src in s["sources"]]
                for j, w in enumerate(out_w):
                    self.plan_tensor(
                        w, [ws[j] for ws in in_w], [src["model"] for src in s["sources"]], slice_reader.with_t(t)
                    )
                current += 1
        last = [src["model"] for src in slices[-1]["sources"]]
        for w in self.weights(module, "post"):
            # mergekit zips the last slice's models with as many names as the first slice has, so
            # a last slice with more sources loses the extra ones here; quirk "post_all_sources"
            # keeps them (hubmerge's choice).
            names = [w] * (len(last) if "post_all_sources" in self.quirks else len(first))
            pairs = list(zip(names, last))
            self.plan_tensor(
                w, [p[0] for p in pairs], [p[1] for p in pairs], reader.for_tensor(w).for_out_slice(slices[-1])
            )

    def plan_tensor(self, weight, weights_in, models, reader):
        present = [w in self.tensors(m)[0] for m, w in zip(models, weights_in)]
        if not any(present):
            return  # a template the tiny models lack
        assert all(present), f"{weight} missing in some model"
        fn, gdefs, tdefs = self.method
        g_reader = reader.for_tensor(weight)
        g = {k: g_reader.parameter(k, None, default=d, required=d is None) for k, d in gdefs.items()}
        tparams = []
        for m, w in zip(models, weights_in):
            r = reader.for_tensor(w)
            is_base = m == self.base
            tparams.append(
                {k: r.parameter(k, m, default=d, required=d is None and not is_base) for k, d in tdefs.items()}
            )
        tensors = [self.tensors(m)[0][w] for m, w in zip(models, weights_in)]
        base_index = models.index(self.base) if self.base in models else None
        if weight in self.out:
            self.duplicates.append(weight)
        self.out[weight] = fn(tensors, tparams, g, base_index)


def expected_config(config, planner):
    """mergekit's _model_out_config: the base's config, each stacked module's layer count."""
    cfg = json.loads(json.dumps(planner.tensors(planner.base or planner.first_model())[1]))
    arch = planner.arch()
    counts = {}
    for name, mdef in planner.config["modules"].items():
        key = arch[name][4]
        if "slices" in mdef and key:
            counts[key] = sum(s["sources"][0]["layer_range"][1] - s["sources"][0]["layer_range"][0] for s in mdef["slices"])
    return cfg, counts


def flat(cfg, prefix=""):
    out = {}
    for k, v in cfg.items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def ulps(a, b):
    ia = a.astype("<f4").view("<i4").astype(np.int64)
    ib = b.astype("<f4").view("<i4").astype(np.int64)
    ia = np.where(ia < 0, -(2**31) - ia, ia)  # order the bit patterns like the floats
    ib = np.where(ib < 0, -(2**31) - ib, ib)
    return int(np.max(np.abs(ia - ib))) if a.size else 0


def main():
    with open(sys.argv[1]) as f:
        case = json.load(f)
    config = case["config"]
    planner = Planner(config, case["root"], case.get("quirks", []))
    want = planner.plan()
    config = planner.config
    got = read_safetensors(case["out"])
    # ulps alone overstate differences at values that cancel to near zero; `scaled` is the
    # largest difference in units of the tensor's own largest value's f32 epsilon.
    diffs, max_ulp, max_scaled = [], 0, 0.0
    for name, value in want.items():
        if name not in got:
            continue
        if list(got[name].shape) != list(value.shape):
            diffs.append({"tensor": name, "shape": [list(got[name].shape), list(value.shape)]})
            continue
        u = ulps(got[name], value)
        max_abs = float(np.max(np.abs(got[name].astype(np.float64) - value))) if value.size else 0.0
        scale = float(np.max(np.abs(value))) * float(np.finfo(np.float32).eps) or 1.0
        max_ulp, max_scaled = max(max_ulp, u), max(max_scaled, max_abs / scale)
        if u:
            diffs.append({"tensor": name, "ulps": u, "max_abs": max_abs, "scaled": max_abs / scale})
    with open(os.path.join(case["out"], "config.json")) as f:
        out_cfg = json.load(f)
    base_cfg, counts = expected_config(config, planner)
    config_diffs = []
    for key, count in counts.items():
        if config_value(out_cfg, key) != count:
            config_diffs.append({"key": key, "got": config_value(out_cfg, key), "want": count})
    for key in ["vocab_size", "text_config.vocab_size", "vision_config.depth", "vision_config.num_hidden_layers",
                "text_config.num_hidden_layers", "num_hidden_layers"]:
        if key in counts:
            continue
        try:
            want_v = config_value(base_cfg, key)
        except KeyError:
            continue
        got_v = config_value(out_cfg, key)
        if got_v != want_v:
            config_diffs.append({"key": key, "got": got_v, "want": want_v})
    report = {
        # every config.json key whose value is not the base's (mergekit changes only the counts)
        "config_changed": sorted(k for k in set(flat(out_cfg)) | set(flat(base_cfg))
                                 if flat(out_cfg).get(k) != flat(base_cfg).get(k)),
        "compared": sum(1 for n in want if n in got),
        "missing": sorted(n for n in want if n not in got),
        "extra": sorted(n for n in got if n not in want),
        "max_ulp": max_ulp,
        "max_scaled": max_scaled,
        "diffs": diffs,
        "config_diffs": config_diffs,
        "config_counts": counts,
        "slerp_paths": SLERP_PATHS,
        "planned_twice": sorted(set(planner.duplicates)),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
