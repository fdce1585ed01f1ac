using System.Text.Json;
using System.Text.Json.Serialization;
using ChatGrains.Grains;

namespace ChatGrains.Silo;

/// <summary>How grain state and events are written into the database's json and text columns.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Chat))]
[JsonSerializable(typeof(ChatCreated))]
[JsonSerializable(typeof(GuestSessionStarted))]
[JsonSerializable(typeof(LiveChatSessionStarted))]
internal sealed partial class StorageJson : JsonSerializerContext;
