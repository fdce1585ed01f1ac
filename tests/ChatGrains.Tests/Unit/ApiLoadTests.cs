using ChatGrains.ApiGateway.Webhooks;
using Microsoft.AspNetCore.Http;

namespace ChatGrains.Tests.Unit;

public sealed class ApiLoadTests
{
    private static DefaultHttpContext Request(string method, string path)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Request.Path = path;
        return http;
    }

    [Theory]
    [InlineData("PUT", "/v2/chats/0b9e3c6a-5f0e-4c1e-9d8e-2f6a7b8c9d0e", true)]
    [InlineData("POST", "/api/v1/chat/guest/session", true)]
    [InlineData("PATCH", "/v2/webhooks/0b9e3c6a-5f0e-4c1e-9d8e-2f6a7b8c9d0e", true)]
    [InlineData("DELETE", "/v2/webhooks/0b9e3c6a-5f0e-4c1e-9d8e-2f6a7b8c9d0e", true)]
    [InlineData("GET", "/v2/events", false)]
    [InlineData("HEAD", "/v2/chats/0b9e3c6a-5f0e-4c1e-9d8e-2f6a7b8c9d0e", false)]
    [InlineData("POST", "/hubs/livechat/negotiate", false)]
    [InlineData("POST", "/HUBS/livechat", false)]
    public void WritesAreTheUnsafeMethodsOutsideTheHubs(string method, string path, bool write) =>
        Assert.Equal(write, ApiLoad.IsWrite(Request(method, path).Request));

    [Fact]
    public async Task AWriteCountsWhileItIsServedAndNotAfterItEndsOrFails()
    {
        var load = new ApiLoad();
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();

        var serving = load.TrackAsync(Request("PUT", "/v2/chats/x"), _ => first.Task);
        var failing = load.TrackAsync(Request("POST", "/livechat/session"), _ => second.Task);
        Assert.Equal(2, load.WritesInFlight);

        first.SetResult();
        await serving;
        Assert.Equal(1, load.WritesInFlight);

        second.SetException(new InvalidOperationException("the handler failed"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.Equal(0, load.WritesInFlight);
    }
}
