using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Engine.Serialization;

/// <summary>
/// The few pieces of the protobuf wire format (protobuf.dev/programming-guides/encoding) that
/// <see cref="OnnxExport"/> needs: varints, fixed32 floats, length-delimited strings, bytes and nested
/// messages, and little-endian float32 payloads. A message is built in one writer; a nested message is
/// built in its own writer and appended with its length in front, since the length comes first on the wire.
/// Fields are written in the order the caller gives; no reading.
/// </summary>
internal sealed class ProtobufWriter
{
    /// <summary>Protobuf's limit on a serialized message (and so on a whole ONNX file without external data).</summary>
    public const long MaxMessageBytes = int.MaxValue;

    enum WireType : uint { Varint = 0, LengthDelimited = 2, Fixed32 = 5 }

    readonly ArrayBufferWriter<byte> _buffer;

    public ProtobufWriter(int initialCapacity = 256) => _buffer = new ArrayBufferWriter<byte>(Math.Max(1, initialCapacity));

    public int Length => _buffer.WrittenCount;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;
    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    /// <summary>Field <paramref name="field"/> as a varint: int32, int64 and enum fields (negative values take 10 bytes).</summary>
    public ProtobufWriter Int64(int field, long value)
    {
        Tag(field, WireType.Varint);
        Varint((ulong)value);
        return this;
    }

    /// <summary>Field <paramref name="field"/> as a fixed32 IEEE-754 float, little-endian.</summary>
    public ProtobufWriter Float(int field, float value)
    {
        Tag(field, WireType.Fixed32);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    /// <summary>A string field, UTF-8 without terminator.</summary>
    public ProtobufWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field (or any length-delimited payload).</summary>
    public ProtobufWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        EnsureRoom(value.Length);
        Tag(field, WireType.LengthDelimited);
        Varint((ulong)value.Length);
        Raw(value);
        return this;
    }

    /// <summary>A bytes field holding the floats as consecutive little-endian IEEE-754 float32 (ONNX raw_data).</summary>
    public ProtobufWriter FloatsAsBytes(int field, ReadOnlySpan<float> values)
    {
        EnsureRoom(4L * values.Length);
        Tag(field, WireType.LengthDelimited);
        Varint((ulong)values.Length * 4);
        if (BitConverter.IsLittleEndian) Raw(MemoryMarshal.AsBytes(values));
        else
        {
            foreach (float v in values)
            {
                BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), v);
                _buffer.Advance(4);
            }
        }
        return this;
    }

    /// <summary>A nested message field: the message built by <paramref name="build"/> in a writer of its own, length first.</summary>
    /// <param name="capacity">Bytes to reserve for the nested message (a hint; the writer grows as needed).</param>
    public ProtobufWriter Message(int field, Action<ProtobufWriter> build, int capacity = 256)
    {
        var inner = new ProtobufWriter(capacity);
        build(inner);
        return Message(field, inner);
    }

    /// <summary>A nested message field holding what <paramref name="message"/> has written.</summary>
    public ProtobufWriter Message(int field, ProtobufWriter message) => Bytes(field, message.WrittenSpan);

    /// <summary>Refuses a field that would take the message past protobuf's 2 GiB limit (a tag and a length take at most 15 bytes).</summary>
    void EnsureRoom(long payloadBytes)
    {
        if (Length + 15 + payloadBytes > MaxMessageBytes)
            throw new EngineException($"the message would exceed protobuf's {MaxMessageBytes:N0}-byte limit");
    }

    void Tag(int field, WireType type)
    {
        if (field < 1 || field > (1 << 29) - 1) throw new ArgumentOutOfRangeException(nameof(field), field, "protobuf field numbers are 1..2^29-1");
        Varint(((ulong)field << 3) | (uint)type);
    }

    /// <summary>Base-128 varint: 7 bits a byte, least significant group first, high bit set on all but the last byte.</summary>
    void Varint(ulong value)
    {
        Span<byte> span = _buffer.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _buffer.Advance(n);
    }

    void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.GetSpan(bytes.Length));
        _buffer.Advance(bytes.Length);
    }
}
