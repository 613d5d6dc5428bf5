#!/usr/bin/env python3
"""Re-quantises a GGUF model to Q8_0 with the `gguf` package, for the Q8_0 speed comparison.

Every 2-D weight whose row length is a multiple of 32 is dequantised to fp32 and quantised to Q8_0; other tensors
(norms, biases) are copied as they are. All metadata is copied, with general.file_type set to MOSTLY_Q8_0 (7).

Run: .venv-ref/bin/python Benchmarks/engine/requantize_q8_0.py IN.gguf OUT.gguf
"""

import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import dequantize, quantize


def main(src, dst):
    reader = GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = GGUFWriter(dst, arch)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type"):
            continue
        vtype = GGUFValueType(field.types[0])
        sub = GGUFValueType(field.types[1]) if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), vtype, sub_type=sub)
    writer.add_file_type(7)
    for t in reader.tensors:
        shape = [int(x) for x in reversed(t.shape.tolist())]  # numpy order: rows first
        if len(shape) == 2 and shape[1] % 32 == 0 and t.tensor_type != GGMLQuantizationType.Q8_0:
            data = dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float32)
            q = quantize(data, GGMLQuantizationType.Q8_0)
            writer.add_tensor(t.name, q, raw_shape=q.shape, raw_dtype=GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(t.name, np.asarray(t.data), raw_shape=np.asarray(t.data).shape, raw_dtype=t.tensor_type)
        print(t.name, file=sys.stderr)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
