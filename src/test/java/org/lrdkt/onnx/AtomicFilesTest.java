package org.lrdkt.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.TestModels;

class AtomicFilesTest {

    @TempDir
    Path dir;

    /** The mode this process's umask gives a file created the ordinary way. */
    private Set<PosixFilePermission> ordinaryMode() throws Exception {
        Path probe = Files.createFile(dir.resolve("probe"));
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(probe);
        Files.delete(probe);
        return mode;
    }

    @Test
    void aNewOutputGetsTheModeTheUmaskGivesAnOrdinaryFile() throws Exception {
        Set<PosixFilePermission> expected = ordinaryMode();
        // under a umask of 077 the ordinary mode is the private one, and this test could not tell the two apart
        assumeFalse(expected.equals(PosixFilePermissions.fromString("rw-------")), "umask 077");
        Path report = dir.resolve("report.json");
        AtomicFiles.writeString(report, "{}\n");
        assertEquals(expected, Files.getPosixFilePermissions(report));
    }

    @Test
    void aReplacedOutputKeepsItsMode() throws Exception {
        Path report = dir.resolve("report.json");
        Files.writeString(report, "old\n");
        // a mode no umask produces, so that keeping it cannot be confused with creating the file afresh
        Set<PosixFilePermission> unusual = PosixFilePermissions.fromString("rw----r--");
        Files.setPosixFilePermissions(report, unusual);
        AtomicFiles.writeString(report, "new\n");
        assertEquals("new\n", Files.readString(report));
        assertEquals(unusual, Files.getPosixFilePermissions(report));
    }

    @Test
    void aModelWithExternalDataGetsTheOrdinaryModeOnBothFiles() throws Exception {
        Set<PosixFilePermission> expected = ordinaryMode();
        Path model = dir.resolve("m.onnx");
        OnnxModel.load(TestModels.LENET).save(model, OnnxModel.ExternalData.ALWAYS);
        List<Path> written;
        try (Stream<Path> files = Files.list(dir)) {
            written = files.toList();
        }
        assertEquals(2, written.size(), "the model and its data file, no temp file left: " + written);
        for (Path file : written) {
            assertEquals(expected, Files.getPosixFilePermissions(file), file.toString());
        }
    }
}
