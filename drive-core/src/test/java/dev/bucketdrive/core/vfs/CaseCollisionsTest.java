package dev.bucketdrive.core.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.names.NameCodec;
import dev.bucketdrive.core.store.KeyOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class CaseCollisionsTest {

    private static Map<String, String> windows(String... keys) {
        List<String> sorted = new ArrayList<>(List.of(keys));
        sorted.sort(KeyOrder.UTF8);
        return CaseCollisions.shownNames(sorted, NameCodec.WINDOWS, true);
    }

    @Test
    void theFirstKeyInKeyOrderKeepsItsNameTheOthersGetASuffix() {
        Map<String, String> shown = windows("readme.txt", "Readme.txt", "README.txt");
        assertThat(shown).containsExactly(Map.entry("README.txt", "README.txt"),
                Map.entry("Readme (case 2).txt", "Readme.txt"), Map.entry("readme (case 3).txt", "readme.txt"));
    }

    @Test
    void aSuffixNeverTakesTheNameOfAnotherKey() {
        Map<String, String> shown = windows("a.txt", "A.txt", "a (case 2).txt");
        assertThat(shown).containsEntry("A.txt", "A.txt").containsEntry("a (case 2).txt", "a (case 2).txt")
                .containsEntry("a (case 3).txt", "a.txt");
    }

    @Test
    void namesWithoutExtensionAndForbiddenCharacters() {
        Map<String, String> shown = windows("Makefile", "MAKEFILE", "a?b", "A?B");
        assertThat(shown).containsEntry("MAKEFILE", "MAKEFILE").containsEntry("Makefile (case 2)", "Makefile")
                .containsEntry("A\uFF1FB", "A?B").containsEntry("a\uFF1Fb (case 2)", "a?b");
    }

    @Test
    void lookupIgnoresCaseAndReachesTheFirstKey() {
        Map<String, String> shown = windows("Readme.txt", "README.txt");
        assertThat(CaseCollisions.keyFor("readme.TXT", shown, true)).isEqualTo("README.txt");
        assertThat(CaseCollisions.keyFor("README (CASE 2).TXT", shown, true)).isEqualTo("Readme.txt");
        assertThat(CaseCollisions.keyFor("missing", shown, true)).isNull();
    }

    @Test
    void caseSensitiveMountsShowKeysAsTheyAre() {
        List<String> keys = List.of("README.txt", "Readme.txt");
        assertThat(CaseCollisions.shownNames(keys, NameCodec.POSIX, false))
                .containsExactly(Map.entry("README.txt", "README.txt"), Map.entry("Readme.txt", "Readme.txt"));
        assertThat(CaseCollisions.keyFor("readme.txt", CaseCollisions.shownNames(keys, NameCodec.POSIX, false), false))
                .isNull();
    }

    @Property(tries = 300)
    void everyKeyStaysReachableUnderAUniqueName(@ForAll @Size(max = 8) List<@StringLength(min = 1, max = 4) String> raw) {
        List<String> keys = raw.stream().map(k -> k.replace("/", "_").replace("\u0000", "_")).distinct()
                .sorted(KeyOrder.UTF8).toList();
        Map<String, String> shown = CaseCollisions.shownNames(keys, NameCodec.WINDOWS, true);
        assertThat(shown.values()).containsExactlyInAnyOrderElementsOf(keys);
        assertThat(shown.keySet().stream().map(CaseCollisions::fold).distinct().count()).isEqualTo(keys.size());
        for (Map.Entry<String, String> e : shown.entrySet()) {
            assertThat(CaseCollisions.keyFor(e.getKey(), shown, true)).isEqualTo(e.getValue());
        }
    }
}
