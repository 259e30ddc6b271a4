using Engine.Serialization;

namespace Engine.Tests.Serialization;

/// <summary>One decoded protobuf field: a varint or fixed32 in <see cref="Value"/>, a length-delimited payload in <see cref="Bytes"/>.</summary>
internal sealed record ProtoField(int Number, int WireType, ulong Value, byte[] Bytes)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Bytes);
    public IReadOnlyList<ProtoField> Message => ProtobufReader.Parse(Bytes);
}

/// <summary>A minimal protobuf decoder for the tests: reads back what <see cref="ProtobufWriter"/> writes, independently.</summary>
internal static class ProtobufReader
{
    public static IReadOnlyList<ProtoField> Parse(ReadOnlySpan<byte> bytes)
    {
        var fields = new List<ProtoField>();
        int pos = 0;
        while (pos < bytes.Length)
        {
            ulong tag = Varint(bytes, ref pos);
            int number = (int)(tag >> 3), wire = (int)(tag & 7);
            switch (wire)
            {
                case 0: fields.Add(new ProtoField(number, wire, Varint(bytes, ref pos), [])); break;
                case 5:
                    fields.Add(new ProtoField(number, wire, BitConverter.ToUInt32(bytes.Slice(pos, 4)), []));
                    pos += 4;
                    break;
                case 2:
                    int length = checked((int)Varint(bytes, ref pos));
                    fields.Add(new ProtoField(number, wire, (ulong)length, bytes.Slice(pos, length).ToArray()));
                    pos += length;
                    break;
                default: throw new InvalidDataException($"wire type {wire} at byte {pos}");
            }
        }
        return fields;
    }

    static ulong Varint(ReadOnlySpan<byte> bytes, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = bytes[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
            if (shift > 63) throw new InvalidDataException("varint longer than 10 bytes");
        }
    }

    public static ProtoField Single(this IReadOnlyList<ProtoField> message, int number) => message.Single(f => f.Number == number);
    public static IEnumerable<ProtoField> All(this IReadOnlyList<ProtoField> message, int number) => message.Where(f => f.Number == number);
}

/// <summary>The hand-written protobuf encoder against the byte sequences of the protobuf encoding guide.</summary>
public class OnnxProtobufTests
{
    static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    [Fact]
    public void Varint_fields_match_the_encoding_guide()
    {
        Assert.Equal(Hex("08 96 01"), new ProtobufWriter().Int64(1, 150).ToArray());
        Assert.Equal(Hex("08 00"), new ProtobufWriter().Int64(1, 0).ToArray());
        Assert.Equal(Hex("08 7F"), new ProtobufWriter().Int64(1, 127).ToArray());
        Assert.Equal(Hex("08 80 01"), new ProtobufWriter().Int64(1, 128).ToArray());
        // int64 −1: two's complement as an unsigned varint, 10 bytes.
        Assert.Equal(Hex("08 FF FF FF FF FF FF FF FF FF 01"), new ProtobufWriter().Int64(1, -1).ToArray());
        Assert.Equal(Hex("08 FF FF FF FF FF FF FF FF 7F"), new ProtobufWriter().Int64(1, long.MaxValue).ToArray());
        // Field 20 (AttributeProto.type): the tag itself takes two bytes, (20 << 3) | 0 = 160.
        Assert.Equal(Hex("A0 01 02"), new ProtobufWriter().Int64(20, 2).ToArray());
    }

    [Fact]
    public void Length_delimited_fields_match_the_encoding_guide()
    {
        Assert.Equal(Hex("12 07 74 65 73 74 69 6E 67"), new ProtobufWriter().String(2, "testing").ToArray());
        Assert.Equal(Hex("0A 00"), new ProtobufWriter().String(1, "").ToArray());
        Assert.Equal(Hex("1A 03 08 96 01"), new ProtobufWriter().Message(3, m => m.Int64(1, 150)).ToArray());
        var inner = new ProtobufWriter().String(1, "a").Int64(2, 1);
        Assert.Equal(Hex("42 05 0A 01 61 10 01"), new ProtobufWriter().Message(8, inner).ToArray());
        // A 300-byte payload: the length is a two-byte varint (AC 02).
        byte[] long300 = new ProtobufWriter().Bytes(9, new byte[300]).ToArray();
        Assert.Equal(Hex("4A AC 02"), long300[..3]);
        Assert.Equal(303, long300.Length);
    }

    [Fact]
    public void Floats_are_fixed32_or_raw_little_endian()
    {
        Assert.Equal(Hex("15 00 00 80 3F"), new ProtobufWriter().Float(2, 1f).ToArray());
        Assert.Equal(Hex("4A 0C 00 00 80 3F 00 00 00 80 01 00 00 00"),
                     new ProtobufWriter().FloatsAsBytes(9, [1f, -0f, float.Epsilon]).ToArray());
        Assert.Equal(Hex("4A 00"), new ProtobufWriter().FloatsAsBytes(9, []).ToArray());
    }

    [Fact]
    public void The_test_reader_decodes_what_the_writer_writes()
    {
        var bytes = new ProtobufWriter().Int64(1, -5).String(2, "héllo").Message(3, m => m.Float(4, 2.5f)).ToArray();
        var fields = ProtobufReader.Parse(bytes);
        Assert.Equal(-5L, (long)fields.Single(1).Value);
        Assert.Equal("héllo", fields.Single(2).Text);
        Assert.Equal(2.5f, BitConverter.UInt32BitsToSingle((uint)fields.Single(3).Message.Single(4).Value));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1 << 29)]
    public void Invalid_field_numbers_are_refused(int field)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProtobufWriter().Int64(field, 1));
    }
}
