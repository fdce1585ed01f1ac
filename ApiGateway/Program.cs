using ChatGrains.ApiGateway;
using ChatGrains.ApiGateway.Auth;

var app = ChatGrainsApp.Build(args);

if (TokenCommand.IsInvoked(args))
{
    return TokenCommand.Run(app.Services, args, Console.Out, Console.Error);
}

await app.RunAsync();
return 0;
