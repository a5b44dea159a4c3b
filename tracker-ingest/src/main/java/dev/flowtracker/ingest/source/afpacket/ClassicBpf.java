package dev.flowtracker.ingest.source.afpacket;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small assembler for classic BPF ({@code struct sock_filter}: 16-bit opcode, 8-bit true and false jump offsets,
 * 32-bit constant), the language {@code SO_ATTACH_FILTER} takes. Jumps name labels; {@link #build} resolves them
 * into the forward offsets classic BPF allows (at most 255 instructions ahead).
 *
 * <p>A builder belongs to one thread; the built {@link Program} is immutable.
 */
final class ClassicBpf
{
    // Instruction classes, sizes, modes and operations (linux/bpf_common.h).
    static final int LD = 0x00;
    static final int LDX = 0x01;
    static final int ST = 0x02;
    static final int ALU = 0x04;
    static final int JMP = 0x05;
    static final int RET = 0x06;
    static final int MISC = 0x07;
    static final int W = 0x00;
    static final int H = 0x08;
    static final int B = 0x10;
    static final int IMM = 0x00;
    static final int ABS = 0x20;
    static final int IND = 0x40;
    static final int MEM = 0x60;
    static final int ADD = 0x00;
    static final int LSH = 0x60;
    static final int JA = 0x00;
    static final int JEQ = 0x10;
    static final int K = 0x00;
    static final int X = 0x08;
    static final int TAX = 0x00;

    /** Classic BPF jumps are 8-bit offsets. */
    private static final int MAX_JUMP = 255;
    /** The kernel's limit (BPF_MAXINSNS). */
    private static final int MAX_INSTRUCTIONS = 4096;

    private final List<Insn> instructions = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();

    private record Insn(int code, String jumpTrue, String jumpFalse, int k)
    {
    }

    /** One assembled program: {@code length} instructions of 8 bytes each, as the kernel lays them out. */
    record Program(long[] instructions)
    {
        Program
        {
            instructions = instructions.clone();
        }

        int length()
        {
            return instructions.length;
        }

        int code(final int index)
        {
            return (int)(instructions[index] & 0xFFFF);
        }

        int jumpTrue(final int index)
        {
            return (int)(instructions[index] >>> 16 & 0xFF);
        }

        int jumpFalse(final int index)
        {
            return (int)(instructions[index] >>> 24 & 0xFF);
        }

        int k(final int index)
        {
            return (int)(instructions[index] >>> 32);
        }

        /**
         * A {@code struct sock_fprog} in {@code arena}: the instruction count, then a pointer to the instructions
         * (also in {@code arena}).
         */
        MemorySegment toSockFprog(final Arena arena)
        {
            final MemorySegment filters = arena.allocate(8L * instructions.length, 8);
            for (int i = 0; i < instructions.length; i++)
            {
                filters.set(ValueLayout.JAVA_SHORT, 8L * i, (short)code(i));
                filters.set(ValueLayout.JAVA_BYTE, 8L * i + 2, (byte)jumpTrue(i));
                filters.set(ValueLayout.JAVA_BYTE, 8L * i + 3, (byte)jumpFalse(i));
                filters.set(ValueLayout.JAVA_INT, 8L * i + 4, k(i));
            }
            final MemorySegment program = arena.allocate(16, 8);
            program.set(ValueLayout.JAVA_SHORT, 0, (short)instructions.length);
            program.set(ValueLayout.ADDRESS, 8, filters);
            return program;
        }
    }

    /** Marks where the next instruction will be. */
    ClassicBpf label(final String name)
    {
        if (labels.putIfAbsent(name, instructions.size()) != null)
        {
            throw new IllegalStateException("label " + name + " defined twice");
        }
        return this;
    }

    /** {@code ldh [offset]}: A = the 16-bit big-endian value at {@code offset}. */
    ClassicBpf loadHalf(final int offset)
    {
        return add(LD | H | ABS, null, null, offset);
    }

    /** {@code ldb [x + offset]}: A = the byte at X + {@code offset}. */
    ClassicBpf loadByteIndirect(final int offset)
    {
        return add(LD | B | IND, null, null, offset);
    }

    /** {@code ldx #value}. */
    ClassicBpf loadXConstant(final int value)
    {
        return add(LDX | W | IMM, null, null, value);
    }

    /** {@code st M[slot]}: scratch memory slot = A. */
    ClassicBpf store(final int slot)
    {
        return add(ST, null, null, slot);
    }

    /** {@code ld M[slot]}. */
    ClassicBpf loadMemory(final int slot)
    {
        return add(LD | W | MEM, null, null, slot);
    }

    /** {@code add #value}. */
    ClassicBpf addConstant(final int value)
    {
        return add(ALU | ADD | K, null, null, value);
    }

    /** {@code add x}. */
    ClassicBpf addX()
    {
        return add(ALU | ADD | X, null, null, 0);
    }

    /** {@code lsh #bits}. */
    ClassicBpf shiftLeft(final int bits)
    {
        return add(ALU | LSH | K, null, null, bits);
    }

    /** {@code tax}: X = A. */
    ClassicBpf moveAToX()
    {
        return add(MISC | TAX, null, null, 0);
    }

    /** {@code jeq #value, ifEqual, ifNot}; a null label means the next instruction. */
    ClassicBpf jumpIfEqual(final int value, final String ifEqual, final String ifNot)
    {
        return add(JMP | JEQ | K, ifEqual, ifNot, value);
    }

    /** {@code ja label}. */
    ClassicBpf jump(final String target)
    {
        return add(JMP | JA, target, null, 0);
    }

    /** {@code ret #bytes}: keep that many bytes of the packet (0 drops it). */
    ClassicBpf ret(final int bytes)
    {
        return add(RET | K, null, null, bytes);
    }

    private ClassicBpf add(final int code, final String jumpTrue, final String jumpFalse, final int k)
    {
        instructions.add(new Insn(code, jumpTrue, jumpFalse, k));
        return this;
    }

    /** Resolves the labels; every jump must go forward and at most 255 instructions. */
    Program build()
    {
        if (instructions.isEmpty() || instructions.size() > MAX_INSTRUCTIONS)
        {
            throw new IllegalStateException("a program has 1 to " + MAX_INSTRUCTIONS + " instructions, this has " +
                instructions.size());
        }
        final long[] assembled = new long[instructions.size()];
        for (int i = 0; i < assembled.length; i++)
        {
            final Insn insn = instructions.get(i);
            final boolean always = insn.code() == (JMP | JA);
            final int jumpTrue = offset(i, insn.jumpTrue());
            final int jumpFalse = offset(i, insn.jumpFalse());
            final int k = always ? jumpTrue : insn.k();
            assembled[i] = insn.code() & 0xFFFFL | (always ? 0 : (long)jumpTrue << 16 | (long)jumpFalse << 24) |
                (k & 0xFFFF_FFFFL) << 32;
        }
        return new Program(assembled);
    }

    private int offset(final int from, final String label)
    {
        if (label == null)
        {
            return 0;
        }
        final Integer target = labels.get(label);
        if (target == null)
        {
            throw new IllegalStateException("undefined label " + label);
        }
        final int offset = target - from - 1;
        if (offset < 0 || offset > MAX_JUMP)
        {
            throw new IllegalStateException("jump from " + from + " to " + label + " is " + offset +
                " instructions: classic BPF jumps forward at most " + MAX_JUMP);
        }
        return offset;
    }
}
