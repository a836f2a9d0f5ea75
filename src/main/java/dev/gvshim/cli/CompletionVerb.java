package dev.gvshim.cli;

import dev.gvshim.call.Call;
import dev.gvshim.failure.Exit;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code gvshim completion bash|zsh}: a completion script generated from the command tree itself
 * (picocli's AutoComplete), so it never lags behind the verbs and options. The installation
 * carries the bash one in share/bash-completion/completions/gvshim too.
 */
final class CompletionVerb implements Verb {
    @Override
    public String name() {
        return "completion";
    }

    @Override
    public CommandSpec spec() {
        CommandSpec s = Options.command("completion", "Print a completion script for SHELL (bash or zsh).",
                "bash: source <(gvshim completion bash), or save it as /etc/bash_completion.d/gvshim.",
                "zsh: source <(gvshim completion zsh) in ~/.zshrc.");
        s.addPositional(PositionalParamSpec.builder().paramLabel("SHELL").arity("1").type(String.class)
                .completionCandidates(List.of("bash", "zsh")).description("bash or zsh.").build());
        return s;
    }

    @Override
    public int call(ParseResult p, Call call) {
        String shell = p.matchedPositionalValue(0, "");
        if (!shell.equals("bash") && !shell.equals("zsh")) {
            return ErrorSink.usage(call, "gvshim completion", "no completion for shell '" + shell + "': bash or zsh",
                    Exit.USAGE);
        }
        call.out().print(Usage.completion(call, shell));
        call.out().flush();
        return 0;
    }
}
