package dev.gvshim.cli;

import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** Builders for picocli's programmatic model, to keep verb definitions to one line per option. */
final class Options {
    private Options() {
    }

    static CommandSpec command(String name, String... description) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(null, Cli.FACTORY).name(name);
        spec.usageMessage().description(description).sortOptions(false).abbreviateSynopsis(true);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help and exit.").build());
        return spec;
    }

    static OptionSpec flag(String[] names, String description) {
        return OptionSpec.builder(names).arity("0").type(boolean.class).description(description).build();
    }

    static OptionSpec value(String[] names, String label, Class<?> type, String description) {
        return OptionSpec.builder(names).paramLabel(label).type(type).arity("1").description(description).build();
    }

    static OptionSpec repeated(String[] names, String label, String description) {
        return OptionSpec.builder(names).paramLabel(label).type(List.class).auxiliaryTypes(String.class).arity("1")
                .description(description).build();
    }

    static PositionalParamSpec rest(String label, String description) {
        return PositionalParamSpec.builder().paramLabel(label).type(List.class).auxiliaryTypes(String.class)
                .arity("0..*").description(description).build();
    }

    static String[] names(String... n) {
        return n;
    }
}
