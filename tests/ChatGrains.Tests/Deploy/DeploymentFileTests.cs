using System.Text.RegularExpressions;
using System.Xml.Linq;
using ChatGrains.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace ChatGrains.Tests.Deploy;

/// <summary>
/// No container engine runs here, so the container files are checked for what a new user would
/// trip over: the compose file starts the script's topology (PostgreSQL, three nodes with their
/// own addresses, nginx in front) from one image, and the Dockerfile publishes what the tests build.
/// </summary>
public sealed partial class DeploymentFileTests
{
    private static readonly string[] Nodes = ["node1", "node2", "node3"];

    private static YamlMappingNode Compose()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(RepositoryPaths.Of("deploy", "compose.yaml"));
        yaml.Load(reader);
        return Merged((YamlMappingNode)yaml.Documents[0].RootNode);
    }

    /// <summary>
    /// The mapping with its merge keys (<c>&lt;&lt;: *node</c>) applied as compose applies them:
    /// the merged mapping's entries first, the mapping's own entries over them, all the way down.
    /// </summary>
    private static YamlMappingNode Merged(YamlMappingNode mapping)
    {
        var merged = new YamlMappingNode();
        if (mapping.Children.TryGetValue(new YamlScalarNode("<<"), out var inherited))
        {
            foreach (var (key, value) in Merged((YamlMappingNode)inherited).Children)
            {
                merged.Children[key] = value;
            }
        }
        foreach (var (key, value) in mapping.Children.Where(entry => ((YamlScalarNode)entry.Key).Value != "<<"))
        {
            merged.Children[key] = value is YamlMappingNode child ? Merged(child) : value;
        }
        return merged;
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node)[key];

    private static string? Scalar(YamlNode node, string key) =>
        ((YamlMappingNode)node).Children.TryGetValue(key, out var value) ? ((YamlScalarNode)value).Value : null;

    private static string? Address(YamlMappingNode service) => Scalar(Map(Map(service, "networks"), "chatgrains"), "ipv4_address");

    [Fact]
    public void ComposeStartsPostgresThreeNodesFromOneImageAndNginx()
    {
        var services = Map(Compose(), "services");

        Assert.Equal(["postgres", .. Nodes, "nginx"], services.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        var nodes = Nodes.Select(name => Map(services, name)).ToArray();
        Assert.Single(nodes, node => node.Children.ContainsKey("build"));
        Assert.True(nodes[0].Children.ContainsKey("build"), "node1 builds the image");
        Assert.Single(nodes.Select(node => Scalar(node, "image")).Distinct());
        Assert.All(nodes.Skip(1), node => Assert.Equal("never", Scalar(node, "pull_policy")));
        Assert.Equal("deploy/Dockerfile", Scalar(Map(nodes[0], "build"), "dockerfile"));
    }

    [Fact]
    public void EachNodeAdvertisesItsOwnAddressAndTrustsOnlyNginx()
    {
        var services = Map(Compose(), "services");
        var nginx = Address(Map(services, "nginx"));

        var addresses = new List<string?>();
        foreach (var name in Nodes)
        {
            var node = Map(services, name);
            var environment = Map(node, "environment");
            Assert.Equal(Address(node), Scalar(environment, "Orleans__AdvertisedIP"));
            Assert.Equal(nginx, Scalar(environment, "ForwardedHeaders__KnownProxies__0"));
            Assert.Equal("/run/secrets/jwt_signing_key", Scalar(environment, "Jwt__SigningKeyPath"));
            addresses.Add(Address(node));
        }
        Assert.Equal(3, addresses.Distinct().Count());
    }

    [Fact]
    public void ThePasswordComesFromDotEnvWhichIsIgnoredAndHasAnExample()
    {
        var compose = File.ReadAllText(RepositoryPaths.Of("deploy", "compose.yaml"));
        var services = Map(Compose(), "services");
        var connection = Scalar(Map(Map(services, "node1"), "environment"), "ConnectionStrings__ChatGrains")!;

        Assert.Contains("Password=${POSTGRES_PASSWORD:?", connection, StringComparison.Ordinal);
        Assert.StartsWith("${POSTGRES_PASSWORD:?", Scalar(Map(Map(services, "postgres"), "environment"), "POSTGRES_PASSWORD"), StringComparison.Ordinal);
        Assert.Contains("deploy/.env", compose, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^POSTGRES_PASSWORD=\S+$", File.ReadAllText(RepositoryPaths.Of("deploy", ".env.example")));
        Assert.Contains("deploy/.env", File.ReadAllLines(RepositoryPaths.Of(".gitignore")));
        // Four nodes' pools fit PostgreSQL's default max_connections (100, 3 of them for superusers).
        var pool = int.Parse(PoolSize().Match(connection).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(4 * pool <= 97, $"4 nodes × pool {pool} exceed max_connections");
    }

    [Fact]
    public void NginxBalancesTheComposeNodesReResolvingThemAndPassingTheHub()
    {
        var services = Map(Compose(), "services");
        var nginx = File.ReadAllText(RepositoryPaths.Of("deploy", "nginx.conf"));

        // Two upstreams of the same nodes: round robin, and the hub's by client address.
        var upstreams = UpstreamServer().Matches(nginx).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal([.. Nodes, .. Nodes], upstreams);
        Assert.All(UpstreamServer().Matches(nginx), m => Assert.Contains(" resolve", m.Value, StringComparison.Ordinal));
        Assert.Matches(@"resolver 127\.0\.0\.11 valid=\d+s", nginx);
        Assert.Contains("proxy_set_header Upgrade $http_upgrade;", nginx, StringComparison.Ordinal);
        Assert.Contains("./nginx.conf:/etc/nginx/nginx.conf:ro", ((YamlSequenceNode)Map(services, "nginx")["volumes"]).Children.Select(v => ((YamlScalarNode)v).Value));
        Assert.DoesNotContain("$request ", nginx, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDockerfilePublishesTheProjectTheTestsBuildWithEveryProjectItNeeds()
    {
        var dockerfile = File.ReadAllText(RepositoryPaths.Of("deploy", "Dockerfile"));
        var published = PublishedProject().Match(dockerfile).Groups[1].Value;
        var tested = XDocument.Load(RepositoryPaths.Of("tests", "ChatGrains.Tests", "ChatGrains.Tests.csproj"))
            .Descendants("ProjectReference").Select(r => Normalize(Path.GetRelativePath(RepositoryPaths.Root,
                Path.GetFullPath(Path.Combine(RepositoryPaths.Of("tests", "ChatGrains.Tests"), r.Attribute("Include")!.Value.Replace('\\', '/'))))));

        Assert.Equal("ApiGateway/ApiGateway.csproj", published);
        Assert.Contains(published, tested);
        foreach (var project in ProjectClosure(published))
        {
            var folder = Path.GetDirectoryName(project)!;
            Assert.Contains($"COPY {project} {folder}/", dockerfile, StringComparison.Ordinal);
            Assert.Contains($"COPY {folder}/ {folder}/", dockerfile, StringComparison.Ordinal);
        }
        Assert.Contains("COPY global.json Directory.Build.props Directory.Packages.props ./", dockerfile, StringComparison.Ordinal);
        // The image alone runs on SQLite: its data folder exists, belongs to the app user, and is a volume.
        Assert.Contains("chown \"$APP_UID\" /app/data", dockerfile, StringComparison.Ordinal);
        Assert.Contains("VOLUME /app/data", dockerfile, StringComparison.Ordinal);
    }

    /// <summary>The project and every project it references, transitively, relative to the root.</summary>
    private static HashSet<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var next))
        {
            if (!seen.Add(next))
            {
                continue;
            }
            var folder = Path.GetDirectoryName(RepositoryPaths.Of(next))!;
            foreach (var reference in XDocument.Load(RepositoryPaths.Of(next)).Descendants("ProjectReference"))
            {
                var path = Path.GetFullPath(Path.Combine(folder, reference.Attribute("Include")!.Value.Replace('\\', '/')));
                pending.Push(Normalize(Path.GetRelativePath(RepositoryPaths.Root, path)));
            }
        }
        return seen;
    }

    private static string Normalize(string path) => path.Replace('\\', '/');

    [GeneratedRegex(@"Maximum Pool Size=(\d+)")]
    private static partial Regex PoolSize();

    [GeneratedRegex(@"^\s*server (node\d):8080[^;]*;", RegexOptions.Multiline)]
    private static partial Regex UpstreamServer();

    [GeneratedRegex(@"dotnet publish (\S+)")]
    private static partial Regex PublishedProject();
}
