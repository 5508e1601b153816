"""The benchmark peer: chunked gated delta rule in plain PyTorch (CPU).

Written the way the Hugging Face Qwen3-Next reference implementation
(`torch_chunk_gated_delta_rule`) is: per chunk, forward substitution on the
gated K K^T matrix, the WY representation, then a loop over chunks carrying
the state. Layouts follow flash-linear-attention: q, k [B, T, H, K],
v [B, T, H, V], g, beta [B, T, H], state [B, H, K, V] (H == HV here).
"""

import torch
import torch.nn.functional as F


def l2norm(x, dim=-1, eps=1e-6):
    return x * torch.rsqrt((x * x).sum(dim=dim, keepdim=True) + eps)


def torch_chunk_gated_delta_rule(q, k, v, g, beta, chunk_size=64, initial_state=None, use_qk_l2norm=False, scale=None):
    dtype = q.dtype
    if use_qk_l2norm:
        q, k = l2norm(q), l2norm(k)
    q, k, v, beta, g = [x.transpose(1, 2).contiguous().to(torch.float32) for x in (q, k, v, beta, g)]
    batch, heads, length, k_dim = k.shape
    v_dim = v.shape[-1]
    pad = (chunk_size - length % chunk_size) % chunk_size
    q, k, v = (F.pad(x, (0, 0, 0, pad)) for x in (q, k, v))
    beta, g = F.pad(beta, (0, pad)), F.pad(g, (0, pad))
    total = length + pad
    scale = k_dim**-0.5 if scale is None else scale
    q = q * scale
    v_beta = v * beta.unsqueeze(-1)
    k_beta = k * beta.unsqueeze(-1)
    q, k, v, k_beta, v_beta = (x.reshape(batch, heads, -1, chunk_size, x.shape[-1]) for x in (q, k, v, k_beta, v_beta))
    g = g.reshape(batch, heads, -1, chunk_size).cumsum(dim=-1)

    upper = torch.triu(torch.ones(chunk_size, chunk_size, dtype=torch.bool), diagonal=0)
    decay = (g.unsqueeze(-1) - g.unsqueeze(-2)).tril().exp().tril()
    attn = -((k_beta @ k.transpose(-1, -2)) * decay).masked_fill(upper, 0)
    for i in range(1, chunk_size):  # forward substitution, row by row
        row = attn[..., i, :i].clone()
        sub = attn[..., :i, :i].clone()
        attn[..., i, :i] = row + (row.unsqueeze(-1) * sub).sum(-2)
    attn = attn + torch.eye(chunk_size)
    u = attn @ v_beta
    w = attn @ (k_beta * g.exp().unsqueeze(-1))

    state = torch.zeros(batch, heads, k_dim, v_dim) if initial_state is None else initial_state.to(torch.float32)
    out = torch.zeros_like(u)
    strict_upper = torch.triu(torch.ones(chunk_size, chunk_size, dtype=torch.bool), diagonal=1)
    for c in range(total // chunk_size):
        q_c, k_c, u_c = q[:, :, c], k[:, :, c], u[:, :, c]
        intra = (q_c @ k_c.transpose(-1, -2) * decay[:, :, c]).masked_fill_(strict_upper, 0)
        v_new = u_c - w[:, :, c] @ state
        inter = (q_c * g[:, :, c, :, None].exp()) @ state
        out[:, :, c] = inter + intra @ v_new
        g_last = g[:, :, c, -1]
        state = state * g_last[..., None, None].exp() + (k_c * (g_last[..., None] - g[:, :, c]).exp()[..., None]).transpose(-1, -2) @ v_new
    out = out.reshape(batch, heads, -1, v_dim)[:, :, :length]
    return out.transpose(1, 2).contiguous().to(dtype), state
