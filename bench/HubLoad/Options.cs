using System.Globalization;

namespace ChatGrains.Bench.HubLoad;

/// <summary>The command line (see <see cref="Usage"/>).</summary>
internal sealed record Options(
    IReadOnlyList<Uri> Nodes,
    string KeyPath,
    int Conversations,
    IReadOnlyList<int> Rates,
    TimeSpan Warmup,
    TimeSpan Duration,
    TimeSpan Grace,
    double? StopP99Ms,
    bool Sync,
    int SetupParallelism,
    int TextLength,
    TimeSpan Deadline,
    string Issuer,
    string Audience)
{
    public const string Usage = """
        usage: HubLoad --urls URL[,URL...] --key PEM [options]

          --urls URL,...        the nodes; connections are spread round-robin over them, the
                                visitor and the commercial of a conversation on different nodes
                                when there are several (the visitor's HTTP calls go to its node)
          --key PEM             the nodes' signing key: commercial tokens are minted with it (kid
                                from the first node's /.well-known/jwks.json)
          --conversations N     conversations (a visitor and a commercial, each connected)   1000
          --rates R[,R...]      messages per second in all, one measured phase per rate      500
          --warmup S            seconds at each rate before its measured phase               10
          --duration S          measured seconds per rate                                    30
          --grace S             seconds to wait for a phase's last answers and deliveries    10
          --stop-p99 MS         stop after a phase whose p99 exceeds MS, or that lost a message
                                or had an error (a rate ramp)
          --sync                before and after each measured phase print "SYNC start|end
                                NAME" and wait for a line on stdin (bench/run.sh hub samples the
                                nodes' CPU and memory there)
          --setup-parallel N    conversations set up at once                                 32
          --text-length N       characters per message                                       64
          --deadline S          exit (status 3) after this many seconds, whatever happens    3600
          --issuer, --audience  the nodes' Jwt:Issuer and Jwt:Audience                       chatgrains

        stdout: SETUP, WARMUP, RESULT and FINAL lines of key=value pairs (and SYNC lines);
        progress on stderr. Exit status 1 if a message was lost or doubled or a send failed.
        """;

    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var sync = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--sync")
            {
                sync = true;
                continue;
            }
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }
            values[args[i][2..]] = args[++i];
        }

        string Get(string name, string fallback) => values.Remove(name, out var value) ? value : fallback;
        string Required(string name) => values.Remove(name, out var value) ? value : throw new ArgumentException($"--{name} is required");
        int Int(string name, int fallback, int min) =>
            int.TryParse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                ? n
                : throw new ArgumentException($"--{name} must be an integer ≥ {min}");
        TimeSpan Seconds(string name, int fallback, int min) => TimeSpan.FromSeconds(Int(name, fallback, min));

        var nodes = Required("urls").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri : throw new ArgumentException($"--urls: '{url}' is not a URL"))
            .ToList();
        var rates = Get("rates", "500").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(r => int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"--rates: '{r}' is not a positive integer"))
            .ToList();
        double? stop = values.ContainsKey("stop-p99")
            ? double.TryParse(Get("stop-p99", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms > 0 ? ms : throw new ArgumentException("--stop-p99 must be a positive number")
            : null;
        var options = new Options(
            nodes,
            Required("key"),
            Int("conversations", 1000, 1),
            rates,
            Seconds("warmup", 10, 0),
            Seconds("duration", 30, 1),
            Seconds("grace", 10, 1),
            stop,
            sync,
            Int("setup-parallel", 32, 1),
            Int("text-length", 64, 16),
            Seconds("deadline", 3600, 10),
            Get("issuer", "chatgrains"),
            Get("audience", "chatgrains"));
        if (nodes.Count == 0 || rates.Count == 0)
        {
            throw new ArgumentException("--urls and --rates must not be empty");
        }
        if (values.Count > 0)
        {
            throw new ArgumentException($"unknown option --{values.Keys.First()}");
        }
        return options;
    }
}
