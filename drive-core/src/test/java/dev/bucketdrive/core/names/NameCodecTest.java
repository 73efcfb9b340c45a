package dev.bucketdrive.core.names;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NameCodecTest {

    @ParameterizedTest(name = "{0} shows as {1} on Windows")
    @CsvSource(delimiterString = " => ", quoteCharacter = '\'', value = {
            "report.txt => report.txt",
            "a:b => a\uFF1Ab",
            "what? => what\uFF1F",
            "'back\\slash' => back\uFF3Cslash",
            "star*pipe|x => star\uFF0Apipe\uFF5Cx",
            "'<tag>' => \uFF1Ctag\uFF1E",
            "'quote\"d' => quote\uFF02d",
            "'trailing.' => trailing\uFF0E",
            "'trailing ' => trailing\u2420",
            "'inner. dot' => inner. dot",
            "'.' => \uFF0E",
            "'..' => \uFF0E\uFF0E",
            "'.hidden' => .hidden",
            "'full\uFF1Fwidth' => full\u201B\uFF1Fwidth",
            "'quote\u201Bmark' => quote\u201Bmark",
            "'\u201B\uFF1F' => \u201B\u201B\u201B\uFF1F",
    })
    void windowsMapsForbiddenCharactersToLookAlikesAndBack(String key, String shown) {
        assertThat(NameCodec.WINDOWS.toShown(key)).isEqualTo(shown);
        assertThat(NameCodec.WINDOWS.toKey(shown)).isEqualTo(key);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
            "a:b?c | a:b?c",
            "'trailing. ' | 'trailing. '",
            "'.' | \uFF0E",
            "'..' | \uFF0E\uFF0E",
            "'full\uFF0Ewidth' | full\u201B\uFF0Ewidth",
    })
    void posixMapsOnlyWhatNoPosixNameCanBe(String key, String shown) {
        assertThat(NameCodec.POSIX.toShown(key)).isEqualTo(shown);
        assertThat(NameCodec.POSIX.toKey(shown)).isEqualTo(key);
    }

    @org.junit.jupiter.api.Test
    void controlAndNulCharactersAreShownAsPictures() {
        assertThat(NameCodec.POSIX.toShown("nul\u0000")).isEqualTo("nul\u2400");
        assertThat(NameCodec.WINDOWS.toShown("tab\tnew\nline\u0000")).isEqualTo("tab\u2409new\u240Aline\u2400");
        assertThat(NameCodec.WINDOWS.toKey("tab\u2409new\u240Aline\u2400")).isEqualTo("tab\tnew\nline\u0000");
    }

    @Provide
    Arbitrary<String> components() {
        // Dense in the characters that matter, so that every interaction is reached.
        return Arbitraries.strings().withChars("ab.\\:*?\"<>| \u0001\u001f\u0000\uFF1F\uFF0E\u2420\u2401\u201B\uFF3C\u00e9")
                .ofMinLength(1).ofMaxLength(8);
    }

    @Property(tries = 3000)
    void windowsMappingIsReversibleAndYieldsLegalNames(@ForAll("components") String key) {
        String shown = NameCodec.WINDOWS.toShown(key);
        assertThat(NameCodec.WINDOWS.toKey(shown)).isEqualTo(key);
        assertThat(shown).doesNotContainPattern("[\\\\:*?\"<>|\\x00-\\x1f]");
        assertThat(shown).doesNotEndWith(".").doesNotEndWith(" ");
        assertThat(shown).isNotIn(".", "..");
    }

    @Property(tries = 3000)
    void posixMappingIsReversible(@ForAll("components") String key) {
        String shown = NameCodec.POSIX.toShown(key);
        assertThat(NameCodec.POSIX.toKey(shown)).isEqualTo(key);
        assertThat(shown).doesNotContain("\u0000").isNotIn(".", "..");
    }

    @Property(tries = 1000)
    void ordinaryNamesAreShownAsThemselves(@ForAll("ordinary") String key) {
        assertThat(NameCodec.WINDOWS.toShown(key)).isEqualTo(key);
        assertThat(NameCodec.POSIX.toShown(key)).isEqualTo(key);
    }

    @Provide
    Arbitrary<String> ordinary() {
        return Arbitraries.strings().alpha().numeric().withChars("-_ ()[]é日本.").ofMinLength(1).ofMaxLength(20)
                .filter(s -> !s.endsWith(".") && !s.endsWith(" "));
    }
}
