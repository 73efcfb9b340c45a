package dev.bucketdrive.cache;

import dev.bucketdrive.core.local.ChunkKey;
import java.io.FileOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Random;

/**
 * The child process of {@link CrashRecoveryIT}: writes files into a cache as fast as it can until it
 * is killed, each chunk the way programs write files (a first piece, then appends of 4 KiB at most),
 * and acknowledges each file twice in a log: "w ID" once the cache accepted its writes (a write
 * survives a crash of the process once it returns), "ID" once it also made them durable and
 * journalled the upload. Arguments: cache directory, acknowledgement log, a number that makes its
 * file ids unique.
 */
public final class CrashWriter {

    static final int CHUNK_SIZE = 64 * 1024;
    static final int CHUNKS_PER_FILE = 3;

    private CrashWriter() {
    }

    static long fileId(int run, int n) {
        return run * 1_000_000L + n + 1;
    }

    /** The bytes chunk {@code index} of file {@code fileId} must hold. */
    static byte[] content(long fileId, int index) {
        Random r = new Random(fileId * 31 + index);
        byte[] b = new byte[500 + r.nextInt(CHUNK_SIZE - 500)];
        r.nextBytes(b);
        return b;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Path ackLog = Path.of(args[1]);
        int run = Integer.parseInt(args[2]);
        try (LocalCache cache = LocalCache.open(CacheOptions.defaults(dir).withChunkSize(CHUNK_SIZE)
                .withMinFreeBytes(0), Runnable::run);
             FileOutputStream acks = new FileOutputStream(ackLog.toFile(), true)) {
            System.out.println("ready");
            System.out.flush();
            for (int n = 0; ; n++) {
                long fileId = fileId(run, n);
                for (int i = 0; i < CHUNKS_PER_FILE; i++) {
                    byte[] content = content(fileId, i);
                    for (int at = 0; at < content.length; at += at == 0 ? 700 : 4096) {
                        int piece = Math.min(content.length - at, at == 0 ? 700 : 4096);
                        cache.chunks().write(new ChunkKey(fileId, i), at, ByteBuffer.wrap(content, at, piece));
                    }
                }
                acks.write(("w " + fileId + "\n").getBytes(StandardCharsets.US_ASCII));
                // What a close does: make the data durable, then journal the upload.
                cache.chunks().force(fileId);
                cache.journal().scheduleUpload(fileId, "crash/" + fileId, null, Instant.now());
                acks.write((fileId + "\n").getBytes(StandardCharsets.US_ASCII));
            }
        }
    }
}
