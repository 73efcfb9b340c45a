package dev.bucketdrive.core.local;

/**
 * One chunk of one file: bytes {@code [index * chunkSize, (index + 1) * chunkSize)}.
 *
 * @param fileId the file's id in the {@link MetadataIndex}: stable across renames, never reused
 */
public record ChunkKey(long fileId, int index) {
    public ChunkKey {
        if (fileId < 0 || index < 0) {
            throw new IllegalArgumentException("negative file id or index");
        }
    }
}
