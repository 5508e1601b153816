"""deltanet.torch: fla's chunk_gated_delta_rule / fused_recurrent_gated_delta_rule on torch tensors.

Checked against the float64 recurrence (deltanet.reference), for fla's
semantics (final_state None unless asked, o in v's dtype, state float32,
grouped heads, beta/g defaults, cu_seqlens as a tensor), for the absence of
copies on float32/float16 tensors, and inside a local copy of the two call
sites of transformers' Qwen3-Next Gated DeltaNet layer (written for this
test from the modeling file's structure, not copied): prefill through
chunk_gated_delta_rule, then decode steps through
fused_recurrent_gated_delta_rule with the conv and recurrent caches.
Measured (K = 32, V = 16, 2 seeds): float32 o/state 1.0e-6 (chunk,
correlated keys) and 2.0e-7 (recurrent); float16/bfloat16 q, k, v, beta:
o 2.0e-4 / 1.7e-3 (the output rounding), states 3.3e-7; the layer 3.1e-7
(float32) and 2.3e-4 (bfloat16). Bounds 7-13x above.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # python3-torch: install-deps.sh --reports
import torch.nn.functional as F  # noqa: E402

import deltanet.torch as dt  # noqa: E402
from deltanet import inputs, reference  # noqa: E402

B, T, H, HV, K, V = 2, 50, 2, 4, 32, 16


def make(rng, batch=B, tokens=T, dist="correlated"):
    q, k, v, g, beta, h0 = inputs.gated_delta_rule_inputs(rng, batch, tokens, H, HV, K, V, dist)
    return [torch.from_numpy(x) for x in (q, k, v, g, beta, h0)]


def rel(x, ref):
    return reference.relative_error(x.float().numpy(), ref)


def f64_reference(q, k, v, g, beta, h0, **kw):
    return reference.recurrent_gated_delta_rule(*(x.double().numpy() for x in (q, k, v, g, beta)),
                                                None if h0 is None else h0.double().numpy(), **kw)


@pytest.mark.parametrize("fn, bound", [(dt.chunk_gated_delta_rule, 1e-5), (dt.fused_recurrent_gated_delta_rule, 2e-6)])
def test_float32_against_float64(rng, fn, bound):
    q, k, v, g, beta, h0 = make(rng)
    o, s = fn(q, k, v, g, beta, initial_state=h0, output_final_state=True)
    assert o.dtype == torch.float32 and o.shape == v.shape
    assert s.dtype == torch.float32 and s.shape == h0.shape
    o_ref, s_ref = f64_reference(q, k, v, g, beta, h0)
    assert rel(o, o_ref) < bound and rel(s, s_ref) < bound


def test_final_state_is_none_unless_asked(rng):
    q, k, v, g, beta, h0 = make(rng)
    for fn in (dt.chunk_gated_delta_rule, dt.fused_recurrent_gated_delta_rule):
        o, s = fn(q, k, v, g, beta, initial_state=h0)
        assert s is None and o.shape == v.shape


def test_positional_order_scale_and_l2norm(rng):
    """fla's positional order (q, k, v, g, beta, scale, initial_state, ...)."""
    q, k, v, g, beta, h0 = make(rng)
    q, k = q * 3.0, k * 0.5  # not normalised: the flag matters
    o_ref, s_ref = f64_reference(q, k, v, g, beta, h0, scale=0.3, use_qk_l2norm=True)
    for fn in (dt.chunk_gated_delta_rule, dt.fused_recurrent_gated_delta_rule):
        o, s = fn(q, k, v, g, beta, 0.3, h0, True, True)
        assert rel(o, o_ref) < 2e-5 and rel(s, s_ref) < 2e-5


def test_recurrent_defaults_beta_one_and_no_decay(rng):
    q, k, v, g, beta, h0 = make(rng, tokens=9)
    o, s = dt.fused_recurrent_gated_delta_rule(q, k, v, initial_state=h0, output_final_state=True)
    o_ref, s_ref = f64_reference(q, k, v, torch.zeros_like(g), torch.ones_like(beta), h0)
    assert rel(o, o_ref) < 2e-6 and rel(s, s_ref) < 2e-6
    with pytest.raises(NotImplementedError, match="gk / gv"):
        dt.fused_recurrent_gated_delta_rule(q, k, v, gk=g)


@pytest.mark.parametrize("dtype, bound", [(torch.float16, 2e-3), (torch.bfloat16, 1.5e-2)])
def test_low_precision_tensors(rng, dtype, bound):
    """q, k, v and beta in fp16/bf16, g and the state in float32 (as Qwen3-Next
    passes them); o comes back in v's dtype, the state in float32."""
    q, k, v, g, beta, h0 = make(rng, dist="realistic")
    q, k, v, beta = (x.to(dtype) for x in (q, k, v, beta))
    o_ref, s_ref = f64_reference(q, k, v, g, beta, h0)
    for fn in (dt.chunk_gated_delta_rule, dt.fused_recurrent_gated_delta_rule):
        o, s = fn(q, k, v, g, beta, initial_state=h0, output_final_state=True)
        assert o.dtype == dtype and s.dtype == torch.float32
        assert rel(o, o_ref) < bound and rel(s, s_ref) < 4e-6


def test_cu_seqlens_tensor(rng):
    q, k, v, g, beta, _ = make(rng, batch=1, tokens=40)
    cu = torch.tensor([0, 1, 17, 40], dtype=torch.int64)
    h0 = torch.from_numpy((0.1 * rng.standard_normal((3, HV, K, V))).astype(np.float32))
    for fn in (dt.chunk_gated_delta_rule, dt.fused_recurrent_gated_delta_rule):
        o, s = fn(q, k, v, g, beta, initial_state=h0, output_final_state=True, cu_seqlens=cu)
        assert s.shape == (3, HV, K, V)
        for i in range(3):
            a, b = int(cu[i]), int(cu[i + 1])
            o_ref, s_ref = f64_reference(*(x[:, a:b] for x in (q, k, v, g, beta)), h0[i : i + 1])
            assert rel(o[:, a:b], o_ref) < 2e-5 and rel(s[i : i + 1], s_ref) < 2e-5
    with pytest.raises(ValueError, match="the last cu_seqlens offset must be T = 40, got 39"):
        dt.chunk_gated_delta_rule(q, k, v, g, beta, initial_state=h0, cu_seqlens=torch.tensor([0, 1, 17, 39]))


def test_no_copies_for_float32_and_float16(rng):
    """Contiguous float32/float16 tensors reach the kernels as views of their
    memory; bfloat16 (no NumPy dtype) is converted, which the module says."""
    q = make(rng)[0]
    assert dt._as_numpy(q, torch.float32).ctypes.data == q.data_ptr()
    h = q.half()
    assert dt._as_numpy(h, torch.float16).ctypes.data == h.data_ptr()
    assert dt._as_numpy(q.bfloat16(), torch.float32).ctypes.data != q.data_ptr()
    # A non-contiguous view is made contiguous (fla calls .contiguous() too).
    t = q.transpose(1, 2)
    assert np.array_equal(dt._as_numpy(t, torch.float32), t.numpy())


def test_bad_tensors(rng):
    q, k, v, g, beta, h0 = make(rng, tokens=4)
    with pytest.raises(TypeError, match="q must be float32, float16 or bfloat16, got torch.float64"):
        dt.chunk_gated_delta_rule(q.double(), k, v, g, beta)
    with pytest.raises(TypeError, match="k must be a torch.Tensor"):
        dt.chunk_gated_delta_rule(q, k.numpy(), v, g, beta)
    with pytest.raises(TypeError, match="q, k and v must share one dtype"):
        dt.fused_recurrent_gated_delta_rule(q, k.half(), v, g, beta)
    with pytest.raises(TypeError, match="output_final_state must be a bool"):
        dt.chunk_gated_delta_rule(q, k, v, g, beta, output_final_state=1)
    with pytest.raises(ValueError, match=r"initial_state must have shape \(2, 4, 32, 16\)"):
        dt.chunk_gated_delta_rule(q, k, v, g, beta, initial_state=h0[:1])


# ---------------------------------------------------------------------------
# The two call sites of transformers' Qwen3-Next Gated DeltaNet layer: a local
# re-implementation of its forward (projections, causal depthwise conv + SiLU
# with a conv cache, q/k head repeat, gates, chunk op for prefill / recurrent
# op for decode with the recurrent cache, gated RMSNorm, output projection),
# written for this test; the kernels are plain callables, as in the model.
# ---------------------------------------------------------------------------


class GatedDeltaNetLayer(torch.nn.Module):
    def __init__(self, chunk_fn, recurrent_fn, hidden=64, num_k_heads=2, num_v_heads=4, head_k_dim=16,
                 head_v_dim=16, conv_kernel_size=4, seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.chunk_gated_delta_rule, self.recurrent_gated_delta_rule = chunk_fn, recurrent_fn
        self.num_k_heads, self.num_v_heads = num_k_heads, num_v_heads
        self.head_k_dim, self.head_v_dim = head_k_dim, head_v_dim
        self.key_dim, self.value_dim = num_k_heads * head_k_dim, num_v_heads * head_v_dim
        self.conv_kernel_size = conv_kernel_size
        conv_dim = 2 * self.key_dim + self.value_dim
        rand = lambda *shape, s=1.0: torch.randn(*shape, generator=gen) * s  # noqa: E731
        self.w_qkv = rand(conv_dim, hidden, s=hidden**-0.5)
        self.w_z = rand(self.value_dim, hidden, s=hidden**-0.5)
        self.w_b = rand(num_v_heads, hidden, s=hidden**-0.5)
        self.w_a = rand(num_v_heads, hidden, s=hidden**-0.5)
        self.conv_weight = rand(conv_dim, 1, conv_kernel_size, s=0.5)
        self.dt_bias = rand(num_v_heads, s=0.5)
        self.A_log = torch.log(torch.rand(num_v_heads, generator=gen) * 15 + 1)
        self.norm_weight = 1 + rand(head_v_dim, s=0.1)
        self.w_out = rand(hidden, self.value_dim, s=self.value_dim**-0.5)

    def rms_norm_gated(self, x, gate, eps=1e-6):
        dtype = x.dtype
        x = x.to(torch.float32)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
        x = self.norm_weight * x.to(dtype)
        return (x * F.silu(gate.to(torch.float32))).to(dtype)

    def forward(self, hidden_states, cache=None):
        batch, seq_len, _ = hidden_states.shape
        use_precomputed_states = cache is not None and "conv" in cache and seq_len == 1
        dtype = hidden_states.dtype
        mixed_qkv = F.linear(hidden_states, self.w_qkv.to(dtype)).transpose(1, 2)
        z = F.linear(hidden_states, self.w_z.to(dtype)).reshape(batch, seq_len, -1, self.head_v_dim)
        b = F.linear(hidden_states, self.w_b.to(dtype))
        a = F.linear(hidden_states, self.w_a.to(dtype))
        weight = self.conv_weight.to(dtype)
        if use_precomputed_states:  # causal_conv1d_update, torch fallback
            state = torch.cat([cache["conv"], mixed_qkv], dim=-1)
            cache["conv"] = state[:, :, -self.conv_kernel_size :]
            mixed_qkv = F.silu(F.conv1d(state, weight, groups=state.shape[1])[:, :, -seq_len:])
        else:
            if cache is not None:
                cache["conv"] = F.pad(mixed_qkv, (self.conv_kernel_size - mixed_qkv.shape[-1], 0))
            conv = F.conv1d(mixed_qkv, weight, padding=self.conv_kernel_size - 1, groups=mixed_qkv.shape[1])
            mixed_qkv = F.silu(conv[:, :, :seq_len])
        mixed_qkv = mixed_qkv.transpose(1, 2)
        query, key, value = torch.split(mixed_qkv, [self.key_dim, self.key_dim, self.value_dim], dim=-1)
        query = query.reshape(batch, seq_len, -1, self.head_k_dim)
        key = key.reshape(batch, seq_len, -1, self.head_k_dim)
        value = value.reshape(batch, seq_len, -1, self.head_v_dim)
        beta = b.sigmoid()
        g = -self.A_log.float().exp() * F.softplus(a.float() + self.dt_bias)
        if self.num_v_heads // self.num_k_heads > 1:
            query = query.repeat_interleave(self.num_v_heads // self.num_k_heads, dim=2)
            key = key.repeat_interleave(self.num_v_heads // self.num_k_heads, dim=2)
        # The two call sites.
        if not use_precomputed_states:
            core_attn_out, last_recurrent_state = self.chunk_gated_delta_rule(
                query, key, value, g=g, beta=beta, initial_state=None,
                output_final_state=cache is not None, use_qk_l2norm_in_kernel=True,
            )
        else:
            core_attn_out, last_recurrent_state = self.recurrent_gated_delta_rule(
                query, key, value, g=g, beta=beta, initial_state=cache["recurrent"],
                output_final_state=cache is not None, use_qk_l2norm_in_kernel=True,
            )
        if cache is not None:
            cache["recurrent"] = last_recurrent_state
        core_attn_out = self.rms_norm_gated(core_attn_out.reshape(-1, self.head_v_dim), z.reshape(-1, self.head_v_dim))
        return F.linear(core_attn_out.reshape(batch, seq_len, -1), self.w_out.to(dtype))


def float64_kernel(q, k, v, g, beta, initial_state=None, output_final_state=False, use_qk_l2norm_in_kernel=False):
    """The float64 recurrence as a torch callable with the model's keyword arguments."""
    o, s = reference.recurrent_gated_delta_rule(
        *(x.double().numpy() for x in (q, k, v, g, beta)),
        None if initial_state is None else initial_state.double().numpy(), use_qk_l2norm=use_qk_l2norm_in_kernel,
    )
    return torch.from_numpy(o).to(v.dtype), torch.from_numpy(s) if output_final_state else None


@pytest.mark.parametrize("dtype, bound", [(torch.float32, 3e-6), (torch.bfloat16, 3e-3)])
def test_inside_qwen3_next_layer(dtype, bound):
    """Prefill of 37 tokens (chunk op), then 3 decode steps (recurrent op),
    caches carried, against the same layer running the float64 recurrence."""
    ours = GatedDeltaNetLayer(dt.chunk_gated_delta_rule, dt.fused_recurrent_gated_delta_rule)
    ref = GatedDeltaNetLayer(float64_kernel, float64_kernel)
    x = torch.randn(2, 40, 64, generator=torch.Generator().manual_seed(1)).to(dtype)
    cache_ours, cache_ref = {}, {}
    steps = [x[:, :37]] + [x[:, t : t + 1] for t in range(37, 40)]
    for step in steps:
        y, y_ref = ours(step, cache_ours), ref(step, cache_ref)
        assert y.dtype == dtype
        assert reference.relative_error(y.double().numpy(), y_ref.double().numpy()) < bound
    assert reference.relative_error(cache_ours["recurrent"].numpy(), cache_ref["recurrent"].double().numpy()) < bound
    # The decode steps continue the prefill: the whole sequence at once agrees.
    y_all = ours(x, None)
    y_last = torch.cat([ours(s, c) for c in [{}] for s in steps], dim=1)
    assert reference.relative_error(y_last.double().numpy(), y_all.double().numpy()) < bound
