package dev.bucketdrive.core.vfs;

/** One name in a directory listing, with its attributes (for readdirplus). */
public record DirectoryEntry(String name, FileAttributes attributes) {
}
