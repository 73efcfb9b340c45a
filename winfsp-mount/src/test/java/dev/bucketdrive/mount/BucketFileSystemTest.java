package dev.bucketdrive.mount;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.cache.CacheOptions;
import dev.bucketdrive.cache.LocalCache;
import dev.bucketdrive.core.store.InMemoryObjectStore;
import dev.bucketdrive.core.vfs.Drive;
import dev.bucketdrive.core.vfs.DriveOptions;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The adapter's callbacks called as libfuse calls them, over a drive on an in-memory bucket. */
class BucketFileSystemTest {

    @TempDir
    Path tmp;
    LocalCache cache;
    Drive drive;
    BucketFileSystem fs;

    @BeforeEach
    void open() {
        cache = LocalCache.open(CacheOptions.defaults(tmp.resolve("cache")), Runnable::run);
        drive = Drive.open(new InMemoryObjectStore(), cache.chunks(), cache.journal(), cache.index(),
                cache.transactions(), DriveOptions.standard());
        fs = new BucketFileSystem(drive, ErrnoMapTest.NAMED, false);
    }

    @AfterEach
    void close() {
        drive.close();
        cache.close();
    }

    @Test
    void aDirectoryReadInPagesGivesEachNameThatStaysExactlyOnceWhileOthersComeAndGo() {
        drive.mkdir("/dir", 0755);
        for (int i = 0; i < 30; i++) {
            make("/dir/" + String.format("f%02d", i));
        }
        Handle dir = new Handle("/dir");
        assertThat(fs.opendir(dir.path, dir)).isZero();
        assertThat(dir.fh).as("a directory handle is never taken for a file's").isNegative();

        Page first = read(dir, 0, FuseOperations.FUSE_READDIR_PLUS);
        assertThat(first.names).hasSize(7).startsWith(".", "..");
        // Between two reads of the kernel's, ten names that sort last go and ten that sort first come.
        for (int i = 0; i < 10; i++) {
            drive.unlink("/dir/" + String.format("f%02d", 29 - i));
            make("/dir/" + String.format("a%02d", i));
        }
        List<String> seen = new ArrayList<>(first.names);
        long offset = first.lastOffset;
        for (Page page = read(dir, offset, 0); !page.names.isEmpty(); page = read(dir, offset, 0)) {
            assertThat(page.firstOffset).isEqualTo(offset + 1);
            seen.addAll(page.names);
            offset = page.lastOffset;
        }
        assertThat(seen).doesNotHaveDuplicates();
        for (int i = 0; i < 20; i++) {
            assertThat(seen).contains(String.format("f%02d", i));
        }
        // A read from offset 0 (rewinddir) lists again.
        Handle again = new Handle("/dir");
        fs.opendir(again.path, again);
        List<String> fresh = new ArrayList<>();
        for (long at = 0; ; ) {
            Page page = read(again, at, 0);
            if (page.names.isEmpty()) {
                break;
            }
            fresh.addAll(page.names);
            at = page.lastOffset;
        }
        assertThat(fresh).hasSize(32).contains("a00", "a09").doesNotContain("f29");
        assertThat(fs.releasedir(dir.path, dir)).isZero();
        assertThat(fs.releasedir(again.path, again)).isZero();
        assertThat(fs.listingsKept()).isZero();
    }

    @Test
    void aReaddirplusGivesEachKnownNameWithItsAttributesAndAnOffsetLibfusePassesOn() {
        drive.mkdir("/d", 0755);
        make("/d/file");
        drive.mkdir("/d/sub", 0700);
        Handle dir = new Handle("/d");
        fs.opendir(dir.path, dir);

        Page plus = read(dir, 0, FuseOperations.FUSE_READDIR_PLUS);
        assertThat(plus.names).containsExactly(".", "..", "file", "sub");
        assertThat(plus.flags).containsExactly(0, 0, DirFiller.FUSE_FILL_DIR_PLUS, DirFiller.FUSE_FILL_DIR_PLUS);
        assertThat(plus.offsets).containsExactly(1L, 2L, 3L, 4L);

        Page plain = read(dir, 0, 0);
        assertThat(plain.flags).containsOnly(0);
        assertThat(plain.offsets).containsExactly(1L, 2L, 3L, 4L);
        assertThat(read(dir, 4, FuseOperations.FUSE_READDIR_PLUS).names).isEmpty();
    }

    /**
     * libfuse renames an open file that is unlinked (or renamed over) to a hidden name and unlinks
     * that at its last release; the adapter makes it the unlink it stands for, so the name is neither
     * listed nor copied in the bucket, and the open handle keeps the data.
     */
    @Test
    void libfusesHidingOfAnOpenFileIsTheUnlinkItStandsFor() {
        drive.mkdir("/d", 0755);
        long fh = drive.create("/d/open.txt", 0644, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
        drive.write(fh, java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
        assertThat(fs.rename("/d/open.txt", "/d/.fuse_hidden0000000500000001", 0)).isZero();
        assertThat(drive.readdir("/d")).isEmpty();
        java.nio.ByteBuffer back = java.nio.ByteBuffer.allocate(3);
        assertThat(drive.read(fh, back, 0)).isEqualTo(3);
        assertThat(back.array()).containsExactly(1, 2, 3);
        // libfuse asks fstat's attributes under the hidden name, and unlinks it after the last release.
        long[] size = {-1};
        org.cryptomator.jfuse.api.Stat stat = statKeepingSize(size);
        assertThat(fs.getattr("/d/.fuse_hidden0000000500000001", stat, null)).isZero();
        assertThat(size[0]).isEqualTo(3);
        // It moves with its directory.
        assertThat(fs.rename("/d", "/e", 0)).isZero();
        size[0] = -1;
        assertThat(fs.getattr("/e/.fuse_hidden0000000500000001", stat, null)).isZero();
        assertThat(size[0]).isEqualTo(3);
        drive.release(fh);
        assertThat(fs.unlink("/e/.fuse_hidden0000000500000001")).isZero();
        assertThat(fs.getattr("/e/.fuse_hidden0000000500000001", stat, null)).isEqualTo(-ErrnoMapTest.named("enoent"));
        assertThat(fs.unlink("/e/.fuse_hidden0000000500000001")).isEqualTo(-ErrnoMapTest.named("enoent"));
        assertThat(fs.rename("/e", "/d", 0)).isZero();

        // Names that only look alike are renamed as asked.
        make("/d/a");
        assertThat(fs.rename("/d/a", "/d/.fuse_hidden00000005", 0)).isZero();
        assertThat(fs.rename("/d/.fuse_hidden00000005", "/.fuse_hidden0000000500000002", 0)).isZero();
        assertThat(drive.readdir("/")).extracting(e -> e.name()).containsExactlyInAnyOrder("d", ".fuse_hidden0000000500000002");
        assertThat(BucketFileSystem.hidesAnOpenFile("/x", "/.fuse_hidden00000005000000ff")).isTrue();
        assertThat(BucketFileSystem.hidesAnOpenFile("/d/x", "/.fuse_hidden00000005000000ff")).isFalse();
        assertThat(BucketFileSystem.hidesAnOpenFile("/dd/x", "/d/.fuse_hidden00000005000000ff")).isFalse();
    }

    /** A stat buffer that keeps the size it is given in {@code size[0]} and ignores the rest. */
    private static org.cryptomator.jfuse.api.Stat statKeepingSize(long[] size) {
        java.lang.reflect.InvocationHandler ignore = (proxy, method, args) -> null;
        Object time = java.lang.reflect.Proxy.newProxyInstance(BucketFileSystemTest.class.getClassLoader(),
                new Class<?>[] {org.cryptomator.jfuse.api.TimeSpec.class}, ignore);
        return (org.cryptomator.jfuse.api.Stat) java.lang.reflect.Proxy.newProxyInstance(
                BucketFileSystemTest.class.getClassLoader(), new Class<?>[] {org.cryptomator.jfuse.api.Stat.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("setSize")) {
                        size[0] = (Long) args[0];
                    }
                    return method.getReturnType() == org.cryptomator.jfuse.api.TimeSpec.class ? time : null;
                });
    }

    private void make(String path) {
        drive.release(drive.create(path, 0644, Set.of(StandardOpenOption.WRITE)));
    }

    /** One read as libfuse makes it, into a buffer that holds 7 entries. */
    private Page read(Handle dir, long offset, int flags) {
        Page page = new Page();
        DirFiller filler = (name, stat, entryOffset, entryFlags) -> {
            if (page.names.size() == 7) {
                return 1;
            }
            if (page.names.isEmpty()) {
                page.firstOffset = entryOffset;
            }
            page.names.add(name);
            page.offsets.add(entryOffset);
            page.flags.add(entryFlags);
            page.lastOffset = entryOffset;
            return 0;
        };
        assertThat(fs.readdir(dir.path, filler, offset, dir, flags)).isZero();
        return page;
    }

    private static final class Page {
        final List<String> names = new ArrayList<>();
        final List<Long> offsets = new ArrayList<>();
        final List<Integer> flags = new ArrayList<>();
        long firstOffset;
        long lastOffset;
    }

    private static final class Handle implements FileInfo {
        final String path;
        long fh;

        Handle(String path) {
            this.path = path;
        }

        @Override
        public long getFh() {
            return fh;
        }

        @Override
        public void setFh(long fh) {
            this.fh = fh;
        }

        @Override
        public int getFlags() {
            return 0;
        }

        @Override
        public Set<StandardOpenOption> getOpenFlags() {
            return Set.of(StandardOpenOption.READ);
        }

        @Override
        public long getLockOwner() {
            return 0;
        }
    }
}
