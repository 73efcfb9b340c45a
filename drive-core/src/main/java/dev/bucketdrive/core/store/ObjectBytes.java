package dev.bucketdrive.core.store;

/**
 * The bytes a ranged GET returned, with the version they belong to.
 *
 * @param objectSize the whole object's size (from Content-Range or Content-Length)
 */
public record ObjectBytes(byte[] data, String etag, long objectSize) {
}
