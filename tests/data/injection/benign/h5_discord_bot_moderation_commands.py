"""Moderation cog for the community Discord bot."""
import discord
from discord.ext import commands


class Moderation(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot
        # Channel IDs where the bot should not respond to commands.
        self.ignored_channels: set[int] = set()

    @commands.command(name="ignore")
    @commands.has_permissions(manage_channels=True)
    async def ignore_channel(self, ctx: commands.Context, channel: discord.TextChannel | None = None):
        """!ignore [#channel] - stop responding to commands in a channel."""
        channel = channel or ctx.channel
        self.ignored_channels.add(channel.id)
        await ctx.send(f"Okay, I'll ignore commands in {channel.mention} from now on.")

    @commands.command(name="unignore")
    @commands.has_permissions(manage_channels=True)
    async def unignore_channel(self, ctx: commands.Context, channel: discord.TextChannel | None = None):
        channel = channel or ctx.channel
        self.ignored_channels.discard(channel.id)
        await ctx.send(f"Listening to commands in {channel.mention} again.")

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message):
        if message.author.bot:
            return
        if message.channel.id in self.ignored_channels and message.content.startswith("!"):
            # Swallow commands silently in ignored channels.
            return

    async def cog_command_error(self, ctx: commands.Context, error: Exception):
        if isinstance(error, commands.MissingPermissions):
            await ctx.send("You need the Manage Channels permission to do that.")


async def setup(bot: commands.Bot):
    await bot.add_cog(Moderation(bot))
