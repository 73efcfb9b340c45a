package dev.bucketdrive.core.local;

import java.util.function.Supplier;

/**
 * Makes several changes to the {@link MetadataIndex} and the {@link UploadJournal} one transaction:
 * after a crash either all of them hold or none, and together they cost one commit instead of one
 * each (a close stores the file's entry and schedules its upload). A durability the journal promises
 * inside (a scheduled upload on stable storage) holds when {@link #inOne} returns. Changes of the
 * {@link ChunkStore} stay outside (a chunk's bytes are on disk before the entry that counts them),
 * but for a clean chunk stored with the entry of its version
 * ({@link ChunkStore#putClean(ChunkKey, String, java.nio.ByteBuffer, java.util.function.Supplier)}).
 */
public interface LocalTransactions {

    /**
     * Runs {@code changes} as one transaction and returns what they return. If they throw, none of
     * their changes to the index and the journal hold. A call inside another joins it.
     */
    <T> T inOne(Supplier<T> changes);
}
