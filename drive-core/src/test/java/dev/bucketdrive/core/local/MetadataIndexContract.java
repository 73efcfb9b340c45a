package dev.bucketdrive.core.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The contract of {@link MetadataIndex}, run by a subclass per implementation with an empty index. */
public abstract class MetadataIndexContract {

    protected abstract MetadataIndex index();

    protected static Entry file(String path, long size) {
        return new Entry(0, path, Entry.Type.FILE, size, 1_700_000_000_000L, 0100644, 1000, 1000, "\"e\"", 0);
    }

    protected static Entry dir(String path) {
        return new Entry(0, path, Entry.Type.DIRECTORY, 0, 1_700_000_000_000L, 040755, 1000, 1000, null, 0);
    }

    @Test
    void upsertAssignsStableIds() {
        Entry a = index().upsert(file("a.txt", 3));
        assertThat(a.id()).isPositive();
        Entry again = index().upsert(file("a.txt", 9));
        assertThat(again.id()).isEqualTo(a.id());
        assertThat(again.size()).isEqualTo(9);
        assertThat(index().lookup("a.txt")).contains(again);
        assertThat(index().byId(a.id())).contains(again);
        assertThat(index().upsert(file("b.txt", 1)).id()).isNotEqualTo(a.id());
        assertThat(index().lookup("missing")).isEmpty();
    }

    @Test
    void childrenAreListedByName() {
        index().upsert(dir("d"));
        index().upsert(file("d/b", 1));
        index().upsert(file("d/a", 1));
        index().upsert(dir("d/sub"));
        index().upsert(file("d/sub/deep", 1));
        index().upsert(file("top", 1));
        assertThat(index().children("d")).extracting(Entry::name).containsExactly("a", "b", "sub");
        assertThat(index().children("")).extracting(Entry::path).containsExactly("d", "top");
    }

    @Test
    void removeTakesTheSubtreeButNotItsNamesakes() {
        index().upsert(dir("d"));
        index().upsert(file("d/x", 1));
        index().upsert(file("d/sub/y", 1));
        index().upsert(file("d/\u65e5\uffff", 1));
        // Names that sort right next to the subtree: '.' and '0' come just before and after '/'.
        for (String namesake : new String[] {"d2", "d_x%", "d.txt", "d0", "d-", "d\u00e9"}) {
            index().upsert(file(namesake, 1));
        }
        assertThat(index().remove("d")).isEqualTo(4);
        for (String namesake : new String[] {"d2", "d_x%", "d.txt", "d0", "d-", "d\u00e9"}) {
            assertThat(index().lookup(namesake)).as(namesake).isPresent();
        }
    }

    @Test
    void anEmptyDirectoryRemovedAndMadeAgainHoldsOnlyWhatComesAfter() {
        index().upsert(dir("d"));
        index().upsert(dir("d/sub"));
        index().upsert(file("d/x", 1));
        assertThat(index().children("d")).hasSize(2);
        assertThat(index().lookup("d/sub/none")).isEmpty();
        assertThat(index().remove("d/x")).isEqualTo(1);
        assertThat(index().remove("d/sub")).isEqualTo(1);
        assertThat(index().children("d")).isEmpty();
        assertThat(index().remove("d")).isEqualTo(1);
        assertThat(index().lookup("d")).isEmpty();
        assertThat(index().lookup("d/sub")).isEmpty();
        assertThat(index().children("")).extracting(Entry::name).doesNotContain("d");
        index().upsert(dir("d"));
        index().upsert(file("d/y", 1));
        assertThat(index().children("d")).extracting(Entry::name).containsExactly("y");
        assertThat(index().children("d/sub")).isEmpty();
    }

    @Test
    void renameMovesTheSubtreeKeepingIds() {
        index().upsert(dir("src"));
        index().upsert(dir("src/a"));
        long id = index().upsert(file("src/a/b.txt", 5)).id();
        index().upsert(file("src/\u65e5\uffff", 1));
        index().upsert(file("srcfile", 1));
        index().upsert(file("src.bak", 1));
        index().upsert(file("src0", 1));
        index().upsert(file("dst/old", 1));
        index().rename("src", "dst");
        assertThat(index().lookup("dst/\u65e5\uffff")).isPresent();
        assertThat(index().lookup("src.bak")).isPresent();
        assertThat(index().lookup("src0")).isPresent();
        assertThat(index().lookup("src")).isEmpty();
        assertThat(index().lookup("dst/a/b.txt")).hasValueSatisfying(e -> {
            assertThat(e.id()).isEqualTo(id);
            assertThat(e.parent()).isEqualTo("dst/a");
        });
        assertThat(index().children("dst")).extracting(Entry::name).containsExactly("a", "\u65e5\uffff");
        assertThat(index().lookup("dst/old")).isEmpty();
        assertThat(index().lookup("srcfile")).isPresent();
    }

    @Test
    void theRemoteSizeIsKeptApartFromTheSize() {
        Entry grown = index().upsert(file("g", 10).withSize(500));
        assertThat(grown.size()).isEqualTo(500);
        assertThat(grown.remoteSize()).isEqualTo(10);
        assertThat(index().lookup("g").orElseThrow().withRemote("\"f\"", 500).remoteSize()).isEqualTo(500);
        Entry moved = index().upsert(grown.withRemote("\"f\"", 123));
        assertThat(index().byId(moved.id()).orElseThrow()).extracting(Entry::etag, Entry::remoteSize, Entry::size)
                .containsExactly("\"f\"", 123L, 500L);
    }

    @Test
    void listingFreshnessIsRecorded() {
        index().upsert(dir("d"));
        index().markListed("d", 1234);
        assertThat(index().lookup("d").orElseThrow().listedAt()).isEqualTo(1234);
    }

    @Test
    void namesWithOddCharactersAreExact() {
        for (String n : new String[] {"a b", "ü/ñ", "x%y", "under_score", "quote'\"", "日本"}) {
            index().upsert(file(n, n.length()));
            assertThat(index().lookup(n)).hasValueSatisfying(e -> assertThat(e.path()).isEqualTo(n));
        }
    }

    /**
     * Every kind of change shows in the children of every directory read before and after it (an index
     * that remembers listings must drop or update what each change touched), against a plain model.
     */
    @Test
    void childrenFollowEveryChangeOfARandomSequence() {
        Random random = new Random(5);
        String[] names = {"a", "b", "a.b", "a0", "c"};
        TreeMap<String, Boolean> model = new TreeMap<>(); // path -> is a directory
        for (int step = 0; step < 400; step++) {
            List<String> dirs = new ArrayList<>(List.of(""));
            model.forEach((path, isDir) -> {
                if (isDir) {
                    dirs.add(path);
                }
            });
            String parent = dirs.get(random.nextInt(dirs.size()));
            String path = (parent.isEmpty() ? "" : parent + "/") + names[random.nextInt(names.length)];
            String existing = model.isEmpty() ? null : new ArrayList<>(model.keySet()).get(random.nextInt(model.size()));
            switch (random.nextInt(5)) {
                case 0, 1 -> {
                    if (!model.containsKey(path) || !model.get(path)) {
                        boolean isDir = random.nextBoolean() && !model.containsKey(path);
                        index().upsert(isDir ? dir(path) : file(path, step));
                        model.put(path, isDir);
                    }
                }
                case 2 -> {
                    if (existing != null) {
                        index().remove(existing);
                        model.keySet().removeIf(p -> p.equals(existing) || p.startsWith(existing + "/"));
                    }
                }
                case 3 -> {
                    if (existing != null && !path.equals(existing) && !path.startsWith(existing + "/")
                            && !existing.startsWith(path + "/")) {
                        index().rename(existing, path);
                        model.keySet().removeIf(p -> p.equals(path) || p.startsWith(path + "/"));
                        TreeMap<String, Boolean> moved = new TreeMap<>();
                        model.forEach((p, isDir) -> {
                            if (p.equals(existing) || p.startsWith(existing + "/")) {
                                moved.put(path + p.substring(existing.length()), isDir);
                            }
                        });
                        model.keySet().removeIf(p -> p.equals(existing) || p.startsWith(existing + "/"));
                        model.putAll(moved);
                    }
                }
                default -> {
                    if (existing != null && model.get(existing)) {
                        index().markListed(existing, step);
                        assertThat(index().children(Entry.parentOf(existing))).filteredOn(e -> e.path().equals(existing))
                                .extracting(Entry::listedAt).containsExactly((long) step);
                    }
                }
            }
            for (String d : dirs) {
                List<String> expected = model.keySet().stream().filter(p -> Entry.parentOf(p).equals(d))
                        .map(p -> p.substring(p.lastIndexOf('/') + 1)).sorted().toList();
                assertThat(index().children(d)).as("step %d, children of '%s'", step, d)
                        .extracting(Entry::name).containsExactlyElementsOf(expected);
            }
        }
    }
}
