#!/usr/bin/env python3
"""Writes a PyTorch state_dict as a safetensors file, without the safetensors package (PyTorch 1.x, Debian's python3-torch).

    python3 tools/state_dict_to_safetensors.py MODEL.pt WEIGHTS.safetensors

MODEL.pt is what torch.save wrote: a state_dict (torch.save(model.state_dict(), ...)) or a whole module
(torch.save(model, ...)). Every tensor is written in its own dtype (float32 stays F32), C-contiguous, little-endian,
under its state_dict name (0.weight, 0.bias, ... for an nn.Sequential). Then, for example:

    engine import WEIGHTS.safetensors --activation relu --scale 255 --out model.bin

The format: an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, the data
(https://github.com/huggingface/safetensors). The file is written to a temporary name and renamed into place.
"""
import json
import os
import struct
import sys

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}


def state_dict_of(path):
    loaded = torch.load(path, map_location="cpu")
    if isinstance(loaded, torch.nn.Module):
        return loaded.state_dict()
    if isinstance(loaded, dict) and all(isinstance(v, torch.Tensor) for v in loaded.values()):
        return loaded
    raise SystemExit(f"{path}: neither a state_dict nor a torch.nn.Module")


def to_bytes(tensor):
    """The tensor's bytes, C order, little-endian (bfloat16 through its int16 view, which numpy can hold)."""
    t = tensor.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    array = t.numpy()
    return array.astype(array.dtype.newbyteorder("<")).tobytes()


def write(state_dict, path):
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, tensor in state_dict.items():
        if tensor.dtype not in DTYPES:
            raise SystemExit(f"{name}: dtype {tensor.dtype} has no safetensors name here")
        data = to_bytes(tensor)
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)  # the data starts 8-byte aligned
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)
    os.replace(temp, path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.strip().splitlines()[2].strip())
    write(state_dict_of(sys.argv[1]), sys.argv[2])
    print(f"{sys.argv[2]}: written")
