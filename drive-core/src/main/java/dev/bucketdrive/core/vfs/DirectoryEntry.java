package dev.bucketdrive.core.vfs;

/**
 * One name in a directory listing, with its attributes (for readdirplus).
 *
 * @param attributesKnown false while the object's POSIX metadata is still being read after a listing
 *                        brought it in: the attributes are the listing's guess then, not to be cached
 */
public record DirectoryEntry(String name, FileAttributes attributes, boolean attributesKnown) {
}
