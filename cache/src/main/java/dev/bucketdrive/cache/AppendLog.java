package dev.bucketdrive.cache;

import dev.bucketdrive.core.local.ChunkKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;

/**
 * A file of appends to small chunks, each a record written with one {@code pwrite} and no sync: what
 * a write to the end of a small file costs instead of a statement of the index (see
 * {@link SqliteChunkStore}). A record survives a crash of the process once {@link #append} returns;
 * after a power cut the file may end early or in a torn record, which {@link #records} stops at
 * (each record carries its length and a CRC-32C). Safe for concurrent use.
 *
 * <p>A record: magic, data length, sequence number, file id, chunk index, offset, the data, and the
 * CRC-32C of everything after the magic up to it. Little-endian.
 */
final class AppendLog implements AutoCloseable {

    private static final int MAGIC = 0x4244_4c31; // "BDL1"
    private static final int HEADER = 4 + 4 + 8 + 8 + 4 + 4;
    private static final int TRAILER = 4;

    /** One append as read back. */
    record Append(long sequence, ChunkKey key, int offset, byte[] data) {
    }

    private final FileChannel channel;
    private final int maxData;
    /** Where the next record goes (guarded by this). */
    private long end;

    /**
     * Opens the log, creating it if needed; appends go after what it holds. {@code maxData}: the most
     * bytes one record holds, so a damaged length is told from a real one.
     */
    AppendLog(Path file, int maxData) throws IOException {
        this.channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE), LocalFiles.privateFile());
        this.maxData = maxData;
        this.end = channel.size();
    }

    /** Appends one record; once this returns it survives a crash of the process. */
    void append(long sequence, ChunkKey key, int offset, ByteBuffer data) throws IOException {
        int n = data.remaining();
        if (n > maxData) {
            throw new IllegalArgumentException("an append of " + n + " bytes, over " + maxData);
        }
        ByteBuffer record = ByteBuffer.allocate(HEADER + n + TRAILER).order(ByteOrder.LITTLE_ENDIAN);
        record.putInt(MAGIC).putInt(n).putLong(sequence).putLong(key.fileId()).putInt(key.index()).putInt(offset)
                .put(data.duplicate());
        CRC32C crc = new CRC32C();
        crc.update(record.array(), 4, HEADER - 4 + n);
        record.putInt((int) crc.getValue()).flip();
        synchronized (this) {
            long at = end;
            while (record.hasRemaining()) {
                at += channel.write(record, at);
            }
            end = at;
        }
    }

    /** The bytes the log holds. */
    synchronized long size() {
        return end;
    }

    /** Empties the log when {@code nothingPending} says so under its lock (no append runs meanwhile). */
    synchronized boolean restartIf(BooleanSupplier nothingPending) throws IOException {
        if (end == 0 || !nothingPending.getAsBoolean()) {
            return false;
        }
        channel.truncate(0);
        end = 0;
        return true;
    }

    /** The records from the start, in order, up to the first one torn or damaged (or the end). */
    synchronized List<Append> records() throws IOException {
        List<Append> all = new ArrayList<>();
        long at = 0;
        ByteBuffer header = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        while (true) {
            header.clear();
            if (readFully(header, at) < HEADER || header.getInt(0) != MAGIC) {
                return all;
            }
            int n = header.getInt(4);
            if (n < 0 || n > maxData) {
                return all;
            }
            ByteBuffer rest = ByteBuffer.allocate(n + TRAILER).order(ByteOrder.LITTLE_ENDIAN);
            if (readFully(rest, at + HEADER) < n + TRAILER) {
                return all;
            }
            CRC32C crc = new CRC32C();
            crc.update(header.array(), 4, HEADER - 4);
            crc.update(rest.array(), 0, n);
            if (rest.getInt(n) != (int) crc.getValue()) {
                return all;
            }
            byte[] data = new byte[n];
            rest.get(0, data);
            all.add(new Append(header.getLong(8), new ChunkKey(header.getLong(16), header.getInt(24)),
                    header.getInt(28), data));
            at += HEADER + n + TRAILER;
        }
    }

    private int readFully(ByteBuffer dst, long at) throws IOException {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
