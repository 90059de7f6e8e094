using Microsoft.AspNetCore.Cors.Infrastructure;

namespace Functions.LocalHost;

/// <summary>
/// CORS as the Functions platform applies it, before any function sees the request (the app's CORS setting in Azure,
/// local.settings.json's <c>Host.CORS</c> under <c>func start</c>): <c>Host:CORS</c> lists the origins a browser page may
/// call from (comma-separated, or <c>*</c>), <c>Host:CORSCredentials</c> lets those pages send cookies and credentials.
/// Any method and request header; unset, no answer allows another origin, as on the platform.
/// </summary>
public static class PlatformCors
{
    public const string OriginsSetting = "Host:CORS", CredentialsSetting = "Host:CORSCredentials";

    /// <summary>The policy from the settings; a value the platform would not take stops the start, naming it.</summary>
    public static WebApplicationBuilder AddPlatformCors(this WebApplicationBuilder builder)
    {
        var origins = builder.Configuration[OriginsSetting]?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        if (origins.Length == 0) return builder;
        foreach (var origin in origins)
            if (origin != "*" && !IsOrigin(origin))
                throw new InvalidOperationException($"{OriginsSetting} has '{origin}'; each entry must be * or an origin, a scheme and host " +
                    "(and port) with no path, such as https://app.example.com or http://localhost:5173.");
        var anyOrigin = origins.Contains("*");
        var credentials = builder.Configuration.GetValue<bool>(CredentialsSetting);
        // Browsers refuse credentials from an answer that allows every origin: the setting could only mislead.
        if (credentials && anyOrigin)
            throw new InvalidOperationException($"{CredentialsSetting} cannot be true while {OriginsSetting} allows every origin (*): list the origins.");
        builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
        {
            if (anyOrigin) policy.AllowAnyOrigin();
            else policy.WithOrigins(origins);
            policy.AllowAnyMethod().AllowAnyHeader();
            if (credentials) policy.AllowCredentials();
        }));
        return builder;
    }

    /// <summary>
    /// Before routing, so that a preflight is answered before routing refuses its OPTIONS (and after the error pages, so
    /// that it names its request as every answer does); the headers are added as the answer starts, so error answers
    /// written late (an exception's, after clearing the response) carry them too.
    /// </summary>
    public static WebApplication UsePlatformCors(this WebApplication app)
    {
        if (app.Services.GetService<ICorsService>() is not null) app.UseCors();
        return app;
    }

    // What a browser sends in Origin: no path, query or user, not even a trailing slash (which would never match).
    static bool IsOrigin(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.UserInfo.Length == 0
        && uri.PathAndQuery == "/" && uri.Fragment.Length == 0 && !text.EndsWith('/');
}
